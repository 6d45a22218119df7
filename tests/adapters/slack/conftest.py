"""A real CohortBot with Slack enabled, talking to the fake Slack Web API on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestServer

from bot.config import AppConfig
from bot.model.roles import Role
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.fakes.slack_api import FakeSlack
from tests.harness import Playground, demo_config, running_bot

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "slack"


def sign(
    body: str | bytes, *, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers as Slack signs a request: v0 HMAC-SHA256 over `v0:timestamp:body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    data.update(changes)
    return data


@dataclass
class SlackRig:
    playground: Playground
    slack: FakeSlack
    api: TestServer

    @property
    def response_url(self) -> str:
        return str(self.api.make_url("/response/hook-1"))

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> ClientResponse:
        return await self.playground.http.post(
            "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                **(headers if headers is not None else sign(body)),
            },
        )

    async def command(self, text: str, **fields: str) -> ClientResponse:
        form = payload("slash_command.json", text=text, response_url=self.response_url, **fields)
        body = urlencode(form)
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(
        self, envelope: dict[str, Any], headers: dict[str, str] | None = None
    ) -> ClientResponse:
        body = json.dumps(envelope)
        return await self.post(body, "application/json", {**sign(body), **(headers or {})})

    async def interaction(self, interaction: dict[str, Any]) -> ClientResponse:
        body = urlencode({"payload": json.dumps(interaction)})
        return await self.post(body, "application/x-www-form-urlencoded")


def slack_settings(api: TestServer) -> dict[str, str]:
    """The environment that turns Slack on, against the fake Web API at `api`."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": str(api.make_url("/api/")),
        "SLACK_COHORT_CHANNEL": "C0COHORTA",
    }


@asynccontextmanager
async def slack_rig_for(
    make_config: Callable[[dict[str, str]], AppConfig],
) -> AsyncIterator[SlackRig]:
    """A running bot with Slack on, its config made from the Slack settings given."""
    fake = FakeSlack()
    api = TestServer(fake.app(), host="127.0.0.1", port=0)
    await api.start_server()
    try:
        async with running_bot(make_config(slack_settings(api))) as playground:
            yield SlackRig(playground, fake, api)
    finally:
        await api.close()


@pytest.fixture
async def slack_rig(database_url: str) -> AsyncIterator[SlackRig]:
    async with slack_rig_for(lambda slack: demo_config(database_url, **slack)) as rig:
        yield rig


async def make_facilitator(rig: SlackRig, user_id: str, name: str = "Fay") -> int:
    """A Slack user made a facilitator of pilot-a directly in the database ("" for one
    known by id alone, as staff named in app.yaml are until they first write)."""
    bot = rig.playground.bot
    async with unit_of_work(bot.sessions) as uow:
        person = await uow.people.ensure(
            IdentityFacts(platform="slack", workspace="T0001", user_id=user_id, display_name=name),
            now=rig.playground.clock.now(),
        )
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        await uow.cohorts.add_member(
            cohort_id=cohort.id,
            person_id=person.id,
            role=Role.FACILITATOR,
            now=rig.playground.clock.now(),
        )
        return person.id
