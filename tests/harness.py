"""Drive a real CohortBot through the playground's HTTP API on a manual clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.local.guard import SECRET_HEADER, TOKEN_HEADER
from bot.app import CohortBot
from bot.config import AppConfig, parse_config
from bot.model.ports import PlatformClient
from bot.runtime.clock import ManualClock
from tests.conftest import PILOT_CONFIG

PAGE_SECRET = re.compile(r'<meta name="playground-secret" content="([0-9a-f.]+)">')
CHANNEL = "cohort-pilot-a"
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday


SECOND_COHORT = """
  - id: pilot-b
    name: Pilot cohort B
    program: pilot
    time_zone: Europe/London
    channels:
      local: cohort-pilot-b
    facilitators: [local:dana]
    participants: [local:tom]
"""
"""A second cohort of the pilot program, added after pilot-a."""


def demo_config(database_url: str, **environ: str) -> AppConfig:
    """The tests' pilot configuration (tests/pilot.yaml), on the given database."""
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    return parse_config(text, environ={"DATABASE_URL": database_url, **environ})


def two_cohorts_yaml() -> str:
    """The tests' pilot configuration with the second cohort, as app.yaml text."""
    return PILOT_CONFIG.read_text(encoding="utf-8") + SECOND_COHORT


def two_cohorts_config(database_url: str) -> AppConfig:
    return parse_config(two_cohorts_yaml(), environ={"DATABASE_URL": database_url})


async def open_page(client: TestClient[Any, Any], *, token: str | None = None) -> str:
    """Load the playground page as a browser does, then send what its script sends.

    The page sets its secret's cookie (kept in the client's jar) and names the secret,
    which every later request carries in its header, with the token when there is one.
    """
    response = await client.get("/", params={"token": token} if token else None)
    assert response.status == 200, await response.text()
    found = PAGE_SECRET.search(await response.text())
    assert found, "the page names its secret"
    client.session.headers[SECRET_HEADER] = found.group(1)
    if token:
        client.session.headers[TOKEN_HEADER] = token
    return found.group(1)


class Playground:
    """A person's-eye view of the bot: say things, click buttons, read what came back."""

    def __init__(self, bot: CohortBot, client: TestClient[Any, Any], clock: ManualClock) -> None:
        self.bot = bot
        self.http = client
        self.clock = clock

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"/playground/api/{path}", json=body)
        payload: dict[str, Any] = await response.json()
        assert response.status == 200, payload
        return payload

    async def say(self, person: str, text: str, *, channel: str | None = None) -> None:
        await self.post(
            "say",
            {
                "person": person,
                "where": "channel" if channel else "dm",
                "channel_id": channel,
                "text": text,
            },
        )
        await self.bot.settle()

    async def click(self, person: str, message: dict[str, Any], label: str) -> None:
        button = find_button(message, label)
        await self.post(
            "action",
            {
                "person": person,
                "message_id": message["id"],
                "action_id": button["action_id"],
                "value": button["value"],
            },
        )
        await self.bot.settle()

    async def feed(self, person: str) -> list[dict[str, Any]]:
        response = await self.http.get("/playground/api/feed", params={"person": person})
        assert response.status == 200
        messages: list[dict[str, Any]] = (await response.json())["messages"]
        return messages

    async def from_bot(self, person: str, *, where: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in await self.feed(person)
            if m["from"] == "bot" and (where is None or m["where"] == where)
        ]

    async def dm_texts(self, person: str) -> list[str]:
        return [m["message"]["text"] for m in await self.from_bot(person, where="dm")]

    async def last_dm(self, person: str) -> dict[str, Any]:
        return (await self.from_bot(person, where="dm"))[-1]

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        await self.bot.settle()


def find_button(message: dict[str, Any], label: str) -> dict[str, Any]:
    for block in message["message"]["blocks"]:
        for button in block.get("buttons", []):
            if label.lower() in button["label"].lower():
                return dict(button)
    raise AssertionError(f"no button {label!r} in {message['message']['text']!r}")


@asynccontextmanager
async def running_bot(
    config: AppConfig,
    *,
    clock: ManualClock | None = None,
    node_id: str = "test-node",
    extra_clients: dict[str, PlatformClient] | None = None,
) -> AsyncIterator[Playground]:
    """A prepared bot behind a real HTTP server on an ephemeral loopback port."""
    clock = clock or ManualClock(START)
    bot = CohortBot(config, clock=clock, node_id=node_id, extra_clients=extra_clients)
    await bot.prepare()
    server = TestServer(bot.web, host="127.0.0.1", port=0)
    client = TestClient(server)
    await client.start_server()
    try:
        await open_page(client, token=config.server.playground_token)
        yield Playground(bot, client, clock)
    finally:
        await client.close()
        await bot.stop()
