"""Socket Mode: with SLACK_APP_TOKEN the bot takes Slack traffic over a websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from tests.adapters.slack.conftest import SECRET, payload
from tests.fakes.slack_api import FakeSlack
from tests.harness import demo_config, running_bot


@pytest.fixture
async def fake_slack() -> AsyncIterator[tuple[FakeSlack, TestServer]]:
    fake = FakeSlack()
    api = TestServer(fake.app(), host="127.0.0.1", port=0)
    await api.start_server()
    yield fake, api
    for socket in fake.sockets:
        await socket.close()
    await api.close()


async def wait_for(condition: object, *, attempts: int = 200) -> None:
    for _ in range(attempts):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


async def test_slash_command_over_socket_mode_is_acked_and_answered(
    sqlite_url: str, fake_slack: tuple[FakeSlack, TestServer]
) -> None:
    fake, api = fake_slack
    config = demo_config(
        sqlite_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_APP_TOKEN="xapp-1-test",
        SLACK_API_URL=str(api.make_url("/api/")),
    )
    async with running_bot(config) as playground:
        await wait_for(lambda: fake.sockets)
        command = payload("slash_command.json", response_url=str(api.make_url("/response/h1")))
        await fake.push(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "payload": command,
                "accepts_response_payload": True,
            }
        )
        await wait_for(lambda: any(ack.get("envelope_id") == "env-1" for ack in fake.acks))
        await playground.bot.settle()

        assert "/cohort help" in fake.ephemeral_texts()[0]
