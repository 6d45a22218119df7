"""Junk at /api/messages: refused with 4xx and one warning, nothing stored or sent, no 5xx.

Bodies that are not JSON activities are refused before anything authenticates them
(400, 413 when too large, 415 for another content type); well-formed activities without
a valid token get 401; signed activities with fields of the wrong type or text storage
cannot keep get 400. In emulator mode, proxied requests, foreign Host names and serviceUrls
off loopback get 403.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select

from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import TeamsRig
from tests.fakes.bot_connector import FakeBotConnector, new_key

JSON = "application/json"
PERSONAL = "message_personal.json"
BODIES: list[tuple[bytes, str]] = [
    (b"[1]", JSON),
    (b"{not json", JSON),
    (b"\xff\xfe\xfa", JSON),
    (b'{"type": "message", "text": "caf\xe9"}', JSON),
    (b"", JSON),
    (b"null", JSON),
    (b'"text"', JSON),
    (b"{}", JSON),
    (b'{"type": ""}', JSON),
    (b"[" * 50_000 + b"]" * 50_000, JSON),
    (b'{"type": "message", "text": "' + b"x" * 2_000_000 + b'"}', JSON),
    (b"\xff\xfe\xfa", "application/json; charset=nonsense"),
    (b'{"type": "message"}', "text/plain"),
    (b"type=message", "application/x-www-form-urlencoded"),
    (b'{"type": "message"}', ""),
]


def forgeries(fake: FakeBotConnector) -> list[dict[str, str]]:
    """Authorization headers that do not prove the Bot Connector sent the request."""
    return [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": fake.sign(key=new_key())},
        {"Authorization": fake.sign(expires_in=-3600)},
        {"Authorization": fake.sign(audience="another-bots-app-id")},
        {"Authorization": fake.sign(service_url="https://evil.example/")},
    ]


def wrong_shapes(rig: TeamsRig) -> list[dict[str, Any]]:
    """Activities of the right kind with fields of the wrong type or text that is not text."""
    message = rig.activity(PERSONAL, text="help")
    invoke = rig.activity("invoke_adaptive_card_action.json")
    update = rig.activity("conversation_update_member_added.json")
    shapes: list[dict[str, Any]] = [
        {**message, "type": 5},
        {**message, "type": ["message"]},
        {**message, "from": "alex"},
        {**message, "from": {"id": ["29:alex"]}},
        {**message, "from": {"id": 5}},
        {**message, "conversation": []},
        {**message, "conversation": {"id": 5}},
        {**message, "conversation": {**message["conversation"], "tenantId": ["t"]}},
        {**message, "conversation": {**message["conversation"], "isGroup": "no"}},
        {**message, "text": {"a": 1}},
        {**message, "text": ["help"]},
        {**message, "text": 5},
        {**message, "text": "help\u0000"},
        {**message, "text": "help \ud800"},
        {**message, "from": {"id": "\udcff", "name": "x"}},
        {**message, "entities": "x"},
        {**message, "entities": [5]},
        {**message, "attachments": {}},
        {**message, "attachments": [None]},
        {**message, "channelData": []},
        {**message, "channelData": {"tenant": "x"}},
        {**message, "channelData": {"channel": {"id": 19}}},
        {**message, "timestamp": 5},
        {**message, "recipient": "bot"},
        {**message, "value": "x"},
        {**message, "locale": ["en"]},
        {**message, "localTimezone": 5},
        {**invoke, "value": "x"},
        {**invoke, "value": {"action": "x"}},
        {**invoke, "value": {"action": {"data": []}}},
        {**invoke, "name": 5},
        {**update, "membersAdded": "x"},
        {**update, "membersAdded": [5]},
        {**update, "membersAdded": [{"id": 5}]},
    ]
    return [{**shape, "id": f"junk-{n}"} for n, shape in enumerate(shapes)]


async def post(
    rig: TeamsRig, raw: bytes, content_type: str, headers: dict[str, str]
) -> ClientResponse:
    # A stream, so a large body is not one blocking write.
    return await rig.http.post(
        "/api/messages", data=io.BytesIO(raw), headers={"Content-Type": content_type, **headers}
    )


async def outbox_rows(rig: TeamsRig) -> int:
    async with unit_of_work(rig.bot.sessions) as uow:
        count = await uow.session.scalar(select(func.count(OutboxMessage.id)))
    return int(count or 0)


def assert_quiet(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    """No errors, no traceback, at most one warning a request."""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
    assert len(caplog.records) <= requests


async def test_junk_is_refused_without_errors_and_the_next_message_is_answered_once(
    teams_rig: TeamsRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    answers: list[tuple[str, int]] = []
    signed = {"Authorization": teams_rig.fake.sign()}
    for raw, content_type in BODIES:
        for headers in [*forgeries(teams_rig.fake), signed]:
            answers.append(("junk", (await post(teams_rig, raw, content_type, headers)).status))
    message = json.dumps(teams_rig.activity(PERSONAL, text="help", id="unsigned")).encode()
    for headers in forgeries(teams_rig.fake):
        answers.append(("unsigned", (await post(teams_rig, message, JSON, headers)).status))
    for shape in wrong_shapes(teams_rig):
        raw = json.dumps(shape).encode()
        answers.append(("wrong shape", (await post(teams_rig, raw, JSON, signed)).status))
    await teams_rig.bot.settle()

    assert len(answers) >= 150
    assert {status for kind, status in answers if kind == "junk"} <= {400, 413, 415}
    assert {status for kind, status in answers if kind == "unsigned"} == {401}
    assert {status for kind, status in answers if kind == "wrong shape"} == {400}
    assert_quiet(caplog, len(answers))
    assert await teams_rig.inbox_count() == 0
    assert await outbox_rows(teams_rig) == 0
    assert teams_rig.fake.messages() == []
    assert (await teams_rig.http.get("/healthz")).status == 200

    await teams_rig.send(teams_rig.activity(PERSONAL, text="help"))
    assert await teams_rig.inbox_count() == 1
    assert len(teams_rig.fake.messages()) == 1


def untrusted(rig: TeamsRig) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Requests emulator mode cannot trust: proxied, a foreign Host, a foreign serviceUrl."""
    message = rig.activity(PERSONAL, text="help", id="untrusted")
    port = rig.http.port
    found: list[tuple[dict[str, Any], dict[str, str]]] = [
        (message, {name: "203.0.113.9"})
        for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")
    ]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "localhost.evil"):
        found.append((message, {"Host": host}))
    for url in (
        "http://evil.example/",
        "https://smba.trafficmanager.net/teams/",
        "http://127.0.0.1@evil.example/",
        "http://evil.example\\@127.0.0.1/",
        "http://localhost.evil.example/",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://127.0.0.1:notaport/",
        "",
    ):
        found.append(({**message, "serviceUrl": url}, {}))
    without = {k: v for k, v in message.items() if k != "serviceUrl"}
    found.append((without, {}))
    return found


async def test_emulator_mode_refuses_what_it_cannot_trust_and_sends_nothing_anywhere(
    emulator_rig: TeamsRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    statuses: list[int] = []
    for activity, headers in untrusted(emulator_rig):
        raw = json.dumps(activity).encode()
        statuses.append((await post(emulator_rig, raw, JSON, headers)).status)
    for raw, content_type in BODIES:
        statuses.append((await post(emulator_rig, raw, content_type, {})).status)
    await emulator_rig.bot.settle()

    assert set(statuses[: len(untrusted(emulator_rig))]) == {403}
    assert max(statuses) < 500
    assert_quiet(caplog, len(statuses))
    assert await emulator_rig.inbox_count() == 0
    assert await outbox_rows(emulator_rig) == 0
    assert emulator_rig.fake.calls == []

    await emulator_rig.send(emulator_rig.activity(PERSONAL, text="help"))
    assert len(emulator_rig.fake.messages()) == 1
