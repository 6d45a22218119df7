"""A real CohortBot with the Teams adapter, talking to the fake Bot Connector on loopback.

Inbound activities are posted to `/api/messages` signed as the Bot Connector signs
them; outbound ones go through real botbuilder to the fake connector, which records
them. `emulator_rig` runs Teams without an app id (emulator mode, auth off);
`teams_rig` with an app id, the OpenID metadata and the login endpoint on the fake.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from adapters.teams.app import TeamsAdapter
from bot.app import CohortBot
from bot.model.events import InboundEvent
from bot.runtime.clock import ManualClock
from storage.models import InboxEvent
from storage.uow import unit_of_work
from tests.fakes.bot_connector import FakeBotConnector
from tests.harness import START, demo_config, open_page

APP_ID = "6f3b9c2e-8d41-4a57-9b0e-2c7d5e1f4a90"
APP_PASSWORD = "test-app-password"
TENANT = "c2d5e7f1-3a4b-4c6d-8e9f-0a1b2c3d4e5f"
CHANNEL = "19:cohort-pilot-a@thread.tacv2"
PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "teams"
SIGN = object()
"""`post(..., auth=SIGN)`: a valid token from the fake's key (the default)."""


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


@dataclass
class TeamsRig:
    bot: CohortBot
    http: TestClient[Any, Any]
    clock: ManualClock
    fake: FakeBotConnector
    adapter: TeamsAdapter

    def activity(self, fixture: str, **changes: Any) -> dict[str, Any]:
        """A fixture activity coming through this fake connector."""
        data = copy.deepcopy(payload(fixture))
        data["serviceUrl"] = self.fake.service_url
        data.update(changes)
        return data

    async def post(self, activity: dict[str, Any], *, auth: object = SIGN) -> ClientResponse:
        headers = {}
        if auth is SIGN:
            if self.fake.app_id:
                headers["Authorization"] = self.fake.sign(service_url=activity["serviceUrl"])
        elif isinstance(auth, str):
            headers["Authorization"] = auth
        return await self.http.post("/api/messages", json=activity, headers=headers)

    async def send(self, activity: dict[str, Any]) -> ClientResponse:
        """Post a signed activity, expect it accepted, and let the bot do its work."""
        response = await self.post(activity)
        assert response.status == 200, await response.text()
        await self.bot.settle()
        return response

    async def inbox_count(self) -> int:
        async with unit_of_work(self.bot.sessions) as uow:
            count = await uow.session.scalar(select(func.count(InboxEvent.id)))
        return int(count or 0)

    def texts(self, conversation_id: str | None = None) -> list[str]:
        """Everything the bot said (card text blocks joined), in order."""
        return [card_text(call.body) for call in self.fake.messages(conversation_id)]


def card_text(activity: dict[str, Any]) -> str:
    """An activity's visible text: its text, or every TextBlock and fact in its cards."""
    parts = [str(activity.get("text") or "")]
    for attachment in activity.get("attachments") or []:
        parts += list(_texts(attachment.get("content", {})))
    return "\n".join(part for part in parts if part)


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield str(node.get("text", ""))
        for fact in node.get("facts", []) if node.get("type") == "FactSet" else []:
            yield f"{fact['title']}: {fact['value']}"
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def card_actions(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action in an activity's cards, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(activity.get("attachments") or [])
    return found


def find_action(activity: dict[str, Any], title: str) -> dict[str, Any]:
    for action in card_actions(activity):
        if str(action.get("title", "")).lower().startswith(title.lower()):
            return action
    raise AssertionError(f"no action {title!r} in {card_text(activity)!r}")


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeBotConnector]:
    """The fake connector of a registered bot: it issues and demands tokens."""
    connector = FakeBotConnector(tls_dir=tmp_path, app_id=APP_ID, app_password=APP_PASSWORD)
    connector.start()
    yield connector
    connector.stop()


@pytest.fixture
def emulator_fake(tmp_path: Path) -> Iterator[FakeBotConnector]:
    """The fake connector as the Bot Framework Emulator plays it: no tokens at all."""
    connector = FakeBotConnector(tls_dir=tmp_path)
    connector.start()
    yield connector
    connector.stop()


async def running_teams_bot(
    database_url: str, fake: FakeBotConnector, environ: dict[str, str]
) -> AsyncIterator[TeamsRig]:
    config = demo_config(database_url, TEAMS_COHORT_CHANNEL=CHANNEL, **environ)
    clock = ManualClock(START)
    bots: list[CohortBot] = []

    async def sink(event: InboundEvent) -> bool:
        return await bots[0].accept(event)

    adapter = TeamsAdapter(config.platforms.teams, sink=sink, clock=clock, loopback=True)
    bot = CohortBot(
        config, clock=clock, node_id="test-node", extra_clients={"teams": adapter.client}
    )
    bots.append(bot)
    if "teams" not in bot.adapters:  # until bot/app.py wires Teams in itself
        adapter.add_routes(bot.web)
    await bot.prepare()
    await adapter.start()
    client = TestClient(TestServer(bot.web, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        await open_page(client)
        yield TeamsRig(bot, client, clock, fake, adapter)
    finally:
        await client.close()
        await bot.stop()
        await adapter.close()


@pytest.fixture
async def teams_rig(
    database_url: str, fake: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsRig]:
    """Teams with an app id: tokens validated against the fake's keys, outgoing tokens
    from the fake's login endpoint (MSAL trusts its self-signed certificate)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert_file))
    environ = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_SERVICE_URL": fake.service_url,
    }
    async for rig in running_teams_bot(database_url, fake, environ):
        yield rig


@pytest.fixture
async def emulator_rig(sqlite_url: str, emulator_fake: FakeBotConnector) -> AsyncIterator[TeamsRig]:
    """Teams without an app id: emulator mode, authentication off, loopback only."""
    async for rig in running_teams_bot(sqlite_url, emulator_fake, {}):
        yield rig
