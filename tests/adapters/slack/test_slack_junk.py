"""Junk at /slack/events: refused with 401 or 400 and one warning, nothing stored, no 5xx.

Unsigned bodies are refused before anything parses them; signed bodies that are not what
Slack sends, or payloads missing fields or carrying the wrong types, get 400.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.adapters.slack.conftest import SlackRig, payload, sign
from tests.adapters.slack.test_slack_events import inbox_rows

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
BODIES: list[tuple[bytes, str]] = [
    (b"[1]", JSON),
    (b"{not json", JSON),
    (b"payload=%7B", FORM),
    (b"\xff\xfe\xfa", JSON),
    (b"\xff\xfe=\xfa", FORM),
    (b"", JSON),
    (b"null", JSON),
    (b'"text"', JSON),
    (b"payload=%5B1%5D", FORM),
    (b"payload=null", FORM),
    (b"[" * 50_000 + b"]" * 50_000, JSON),
    (b"x" * 200_000, JSON),
]


def forgeries(raw: bytes) -> list[dict[str, str]]:
    """Headers that do not prove Slack sent `raw`."""
    now = int(time.time())
    good = sign(raw)
    return [
        {},
        sign(raw, secret="not-the-secret"),
        {**good, "X-Slack-Request-Timestamp": "abc"},
        {**good, "X-Slack-Request-Timestamp": ""},
        {**good, "X-Slack-Request-Timestamp": "1.5"},
        {**good, "X-Slack-Request-Timestamp": "9" * 40},
        sign(raw, timestamp=now + 3600),
        {**good, "X-Slack-Signature": "v0=opérateur"},
        {**good, "X-Slack-Signature": good["X-Slack-Signature"][:-1]},
    ]


def wrong_shapes() -> list[tuple[str, str]]:
    """Signed payloads of the right kind with fields missing or of the wrong type."""
    command = payload("slash_command.json", text="help")
    action = payload("block_actions.json")
    view = payload("view_submission.json")
    dm = payload("event_message_im.json")
    shapes: list[dict[str, Any]] = [
        {**dm, "event": "not an object"},
        {**dm, "event": {**dm["event"], "user": ["U1"]}},
        {**dm, "event": {**dm["event"], "text": {"a": 1}}},
        {**dm, "event": {"type": "message", "channel_type": "im"}},
    ]
    found = [(json.dumps(shape), JSON) for shape in shapes]
    for field in ("user_id", "team_id", "command"):
        broken = {k: v for k, v in command.items() if k != field}
        found.append((urlencode(broken), FORM))
    for interaction in (
        {**action, "actions": 5},
        {**action, "actions": [{"action_id": 3}]},
        {**action, "user": "U1"},
        {**action, "team": ["T0001"]},
        {**view, "view": None},
        {**view, "view": {**view["view"], "state": {"values": "x"}}},
    ):
        found.append((urlencode({"payload": json.dumps(interaction)}), FORM))
    return found


async def post(rig: SlackRig, raw: bytes, content_type: str, headers: dict[str, str]) -> int:
    response = await rig.playground.http.post(
        "/slack/events", data=raw, headers={"Content-Type": content_type, **headers}
    )
    return response.status


async def test_junk_is_refused_without_errors_and_the_next_command_is_answered_once(
    slack_rig: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    answers: list[tuple[str, int]] = []
    for raw, content_type in BODIES:
        for headers in forgeries(raw):
            answers.append(("unsigned", await post(slack_rig, raw, content_type, headers)))
        answers.append(("signed junk", await post(slack_rig, raw, content_type, sign(raw))))
    for body, content_type in wrong_shapes():
        raw = body.encode()
        answers.append(("wrong shape", await post(slack_rig, raw, content_type, sign(raw))))
    await slack_rig.playground.bot.settle()

    assert len(answers) >= 130
    assert {status for kind, status in answers if kind == "unsigned"} == {401}
    assert {status for kind, status in answers if kind == "signed junk"} <= {400, 413}
    assert {status for kind, status in answers if kind == "wrong shape"} == {400}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
    assert await inbox_rows(slack_rig) == 0
    assert (await slack_rig.playground.http.get("/healthz")).status == 200

    response = await slack_rig.command("help")
    await slack_rig.playground.bot.settle()
    assert response.status == 200
    assert len(slack_rig.slack.responses) == 1
    assert await inbox_rows(slack_rig) == 1
