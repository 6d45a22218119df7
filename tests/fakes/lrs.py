"""A fake Learning Record Store on loopback, speaking the xAPI 1.0.3 Statement Resource.

POST /xapi/statements takes a statement or an array, checks Basic auth and the
X-Experience-API-Version header, validates each statement's shape, and stores the batch
all or nothing, answering 200 with the ids. Like a real LRS it never stores an id twice:
an identical resend is accepted and ignored (or answered 409, when told to behave like
LRSs that do), a different statement under a stored id is a 409. It can be told to fail
the next requests (503, 429 with Retry-After), to hold its answer after storing (so the
client can die in between), and can be stopped and started again on the same port.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "1.0.3"


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class FakeLrs:
    username: str = "cohortbot"
    password: str = "lrs-secret"
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Statement id -> statement, in the order stored."""
    posts: list[list[dict[str, Any]]] = field(default_factory=list)
    """Every batch POSTed with valid credentials, whatever the answer."""
    answers: list[int] = field(default_factory=list)
    failures: deque[Failure] = field(default_factory=deque)
    conflict_on_duplicate: bool = False
    """Answer 409 to an identical resend too, instead of accepting and ignoring it."""
    hold: asyncio.Event | None = None
    """When set up, a POST that stored something waits for this event before answering."""
    stored_batch: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/"

    async def start(self) -> None:
        """Serve on an ephemeral port the first time, on the same port after a stop."""
        app = web.Application()
        app.router.add_post("/xapi/statements", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        if not self.port:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close the port: clients get "connection refused" until `start`."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_next(self, *failures: Failure) -> None:
        self.failures.extend(failures)

    def ids_posted(self) -> list[list[str]]:
        return [[statement["id"] for statement in batch] for batch in self.posts]

    async def _post(self, request: web.Request) -> web.Response:
        answer = await self._answer(request)
        self.answers.append(answer.status)
        return answer

    async def _answer(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self._basic():
            return web.json_response({"error": "unauthorised"}, status=401)
        if request.headers.get("X-Experience-API-Version") != VERSION:
            return _bad("missing or unsupported X-Experience-API-Version")
        body = await request.json()
        batch = body if isinstance(body, list) else [body]
        self.posts.append(batch)
        if self.failures:
            failure = self.failures.popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response(
                {"error": "unavailable"}, status=failure.status, headers=headers
            )
        ids = [statement.get("id") for statement in batch]
        if len(set(ids)) != len(ids):
            return _bad("the batch holds the same statement id twice")
        for statement in batch:
            problem = _invalid(statement)
            if problem:
                return _bad(f"statement {statement.get('id')}: {problem}")
        new = []
        for statement in batch:
            existing = self.stored.get(statement["id"])
            if existing is None:
                new.append(statement)
            elif existing != statement or self.conflict_on_duplicate:
                return web.json_response(
                    {"error": f"statement {statement['id']} exists already"}, status=409
                )
        for statement in new:
            self.stored[statement["id"]] = statement
        if new:
            self.stored_batch.set()
            if self.hold is not None:
                await self.hold.wait()
        return web.json_response(ids)

    def _basic(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def _invalid(statement: Any) -> str | None:
    """What makes a statement unacceptable here: the spec's required parts and their shape."""
    if not isinstance(statement, dict):
        return "not an object"
    try:
        uuid.UUID(str(statement.get("id")))
    except ValueError:
        return "id is not a UUID"
    actor = statement.get("actor")
    if not isinstance(actor, dict):
        return "no actor"
    identifiers = [key for key in ("mbox", "mbox_sha1sum", "openid", "account") if key in actor]
    if len(identifiers) != 1:
        return "the actor needs exactly one inverse functional identifier"
    account = actor.get("account")
    if account is not None and not (account.get("homePage") and account.get("name")):
        return "an account needs homePage and name"
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not str(verb.get("id", "")).startswith("http"):
        return "the verb needs an IRI id"
    target = statement.get("object")
    if not isinstance(target, dict) or not str(target.get("id", "")).startswith("http"):
        return "the object needs an IRI id"
    return None
