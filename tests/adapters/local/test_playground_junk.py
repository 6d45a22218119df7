"""Junk at the playground API: refused with 4xx and at most one warning, nothing stored.

Requests without the page's secret, with a foreign Host or Origin, a wrong content type
or a forged token are refused before the body is read (401/403). Bodies with the secret
that are not JSON objects get 400 (413 when too large); objects with fields of the wrong
type, invalid text or unknown people and messages get 400 or 404.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from adapters.local.guard import TOKEN_HEADER
from tests.adapters.local.raw_http import RawClient, raw_client
from tests.adapters.local.test_playground_guard import stored, without_the_pages_secret
from tests.harness import Playground, demo_config, running_bot

TOKEN = "s3cret-playground-token"
WRITES = ("say", "action", "form", "flag")
JSON = "application/json"
BODIES: list[bytes] = [
    b"[1]",
    b"{not json",
    b"\xff\xfe\xfa",
    b'{"person": "alex", "text": "caf\xe9"}',
    b"",
    b"null",
    b'"text"',
    b"42",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"person": "alex", "text": "' + b"x" * 2_000_000 + b'"}',
]
CONTENT_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json-patch+json",
    "",
]
FEEDS = [
    "person=alex&after=abc",
    "person=alex&after=1e5",
    "person=alex&after=" + "9" * 5000,
    "",
    "person=",
    "person=nobody",
    "person=alex%00",
    "person=alex&after=",
]


def wrong_shapes() -> list[tuple[str, dict[str, Any]]]:
    """JSON objects the page never sends: fields missing, of the wrong type, not text."""
    say: dict[str, Any] = {"person": "alex", "where": "dm", "text": "hello"}
    action: dict[str, Any] = {"person": "alex", "message_id": "m1", "action_id": "a", "value": "1"}
    form: dict[str, Any] = {"person": "alex", "message_id": "m1", "form_id": "f", "values": {}}
    flag: dict[str, Any] = {"person": "alex", "message_id": "m1", "note": ""}
    shapes: list[tuple[str, dict[str, Any]]] = [
        ("say", {**say, "person": ["alex"]}),
        ("say", {**say, "person": 7}),
        ("say", {**say, "person": {"id": "alex"}}),
        ("say", {**say, "person": True}),
        ("say", {k: v for k, v in say.items() if k != "person"}),
        ("say", {**say, "text": {"a": 1}}),
        ("say", {**say, "text": ["hello"]}),
        ("say", {**say, "text": 5}),
        ("say", {**say, "text": False}),
        ("say", {k: v for k, v in say.items() if k != "text"}),
        ("say", {**say, "text": "   "}),
        ("say", {**say, "text": "x" * 4001}),
        ("say", {**say, "text": "hello\u0000"}),
        ("say", {**say, "text": "hello \ud800"}),
        ("say", {**say, "where": 5}),
        ("say", {**say, "where": "elsewhere"}),
        ("say", {**say, "where": "channel", "channel_id": {"id": "cohort-pilot-a"}}),
        ("say", {**say, "where": "channel", "channel_id": "no-such-channel"}),
        ("say", {**say, "where": "channel"}),
        ("say", {**say, "person": "nobody"}),
        ("say", {**say, "person": "\udcff"}),
        ("action", {**action, "message_id": {"id": "m1"}}),
        ("action", {**action, "action_id": ["a"]}),
        ("action", {**action, "value": {"v": 1}}),
        ("action", {**action, "value": [1]}),
        ("action", {**action, "value": True}),
        ("action", {**action, "person": None}),
        ("action", action),
        ("form", {**form, "values": []}),
        ("form", {**form, "values": "a=1"}),
        ("form", {**form, "values": None}),
        ("form", {k: v for k, v in form.items() if k != "values"}),
        ("form", {**form, "values": {"rating": {"value": 3}}}),
        ("form", {**form, "values": {"rating\u0000": "3"}}),
        ("form", {**form, "form_id": 12}),
        ("form", form),
        ("flag", {**flag, "note": {"text": "rude"}}),
        ("flag", {**flag, "note": "x" * 4001}),
        ("flag", {**flag, "message_id": ["m1"]}),
        ("flag", flag),
    ]
    return shapes


class Corpus:
    """Sends junk with the page's credentials (or the forgeries given) and keeps statuses."""

    def __init__(self, raw: RawClient, playground: Playground) -> None:
        self.raw = raw
        self.page = {**raw.page_headers(playground), TOKEN_HEADER: TOKEN}
        self.answers: list[tuple[str, int]] = []

    async def post(
        self, kind: str, path: str, raw: bytes, *, content_type: str = JSON, **headers: str
    ) -> None:
        sent = {**self.page, "Content-Type": content_type, **headers}
        answer = await self.raw.send("POST", f"/playground/api/{path}", data=raw, headers=sent)
        self.answers.append((kind, answer.status))

    async def get(self, kind: str, path: str, **headers: str) -> None:
        answer = await self.raw.send("GET", path, headers={**self.page, **headers})
        self.answers.append((kind, answer.status))

    def statuses(self, kind: str) -> set[int]:
        return {status for found, status in self.answers if found == kind}


async def send_everything(corpus: Corpus, playground: Playground) -> None:
    say = json.dumps({"person": "alex", "where": "dm", "text": "/cohort join pilot-a"}).encode()
    for path in WRITES:
        for raw in BODIES:
            await corpus.post("junk body", path, raw)
        for content_type in CONTENT_TYPES:
            await corpus.post("wrong content type", path, say, content_type=content_type)
    for path, shape in wrong_shapes():
        await corpus.post("wrong shape", path, json.dumps(shape).encode())
    for query in FEEDS:
        await corpus.get("bad feed", f"/playground/api/feed?{query}")
    corpus.page = {}
    for forged in without_the_pages_secret(corpus.raw, playground).values():
        headers = {**forged, TOKEN_HEADER: TOKEN}
        await corpus.post("no secret", "say", say, **headers)
        await corpus.get("no secret", "/playground/api/feed?person=alex", **headers)
    corpus.page = corpus.raw.page_headers(playground)
    forged_tokens = ("", "wrong", TOKEN.upper(), TOKEN[:-1], "Bearer " + TOKEN, "pl\u03b1yground")
    for token in forged_tokens:
        await corpus.post("forged token", "say", say, **{TOKEN_HEADER: token})
    await corpus.post("forged token", f"say?token={TOKEN}", say)
    await corpus.get("forged token", "/playground/api/state")
    corpus.page = {**corpus.page, TOKEN_HEADER: TOKEN}
    for host in ("evil.example", "evil.example:80", "localhost.evil.example", "127.0.0.1.nip.io"):
        await corpus.post("foreign", "say", say, Host=host)
        await corpus.get("foreign", "/playground/api/feed?person=alex", Host=host)
        await corpus.get("foreign", "/", Host=host)
    for origin in ("http://evil.example", "null", "http://localhost:1"):
        await corpus.post("foreign", "say", say, Origin=origin)


async def test_junk_is_refused_without_errors_and_the_next_message_is_answered_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = demo_config(sqlite_url, COHORTBOT_PLAYGROUND_TOKEN=TOKEN)
    async with running_bot(config) as playground, raw_client(playground) as raw:
        corpus = Corpus(raw, playground)
        await send_everything(corpus, playground)
        await playground.bot.settle()

        assert len(corpus.answers) >= 150
        assert corpus.statuses("junk body") <= {400, 413}
        assert corpus.statuses("wrong content type") == {403}
        assert corpus.statuses("wrong shape") <= {400, 404}
        assert corpus.statuses("bad feed") <= {400, 404}
        assert corpus.statuses("no secret") == {403}
        assert corpus.statuses("forged token") == {401}
        assert corpus.statuses("foreign") == {403}
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        assert "Traceback" not in caplog.text
        assert len(caplog.records) <= len(corpus.answers), "at most one warning a request"
        assert await stored(playground) == (0, 0, 0)
        assert (await playground.http.get("/healthz")).status == 200

        await playground.say("alex", "help")
        assert len(await playground.dm_texts("alex")) == 1
        assert (await stored(playground))[0] == 1
