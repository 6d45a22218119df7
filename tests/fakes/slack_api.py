"""A fake Slack Web API on loopback for the real slack_sdk AsyncWebClient.

Records every call, answers like Slack (ok, channel, ts, view ids), and can be told to
fail the next calls of a method with a 429 and Retry-After, a 5xx, or an error code,
or to add latency. It also accepts response_url posts under /response/.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

BOT_USER = "UBOT"
TEAM = "T0001"


@dataclass
class Scripted:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class FakeSlack:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scripted: dict[str, deque[Scripted]] = field(default_factory=lambda: defaultdict(deque))
    latency: float = 0.0
    host: str = ""
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """users.lookupByEmail's directory: lowercased email -> Slack user object."""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # read methods such as lookupByEmail
        app.router.add_post("/response/{hook}", self._response_url)
        app.router.add_get("/socket", self._socket)
        return app

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, push queued envelopes, collect the app's acks."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.sockets.append(socket)
        async for frame in socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                self.acks.append(json.loads(frame.data))
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        for socket in self.sockets:
            await socket.send_json(envelope)

    def fail_next(self, method: str, *failures: Scripted) -> None:
        self.scripted[method].extend(failures)

    def add_user(
        self,
        user_id: str,
        email: str,
        *,
        name: str = "",
        tz: str = "Europe/Berlin",
        **extra: Any,
    ) -> None:
        """A member of the workspace, as users.lookupByEmail describes one."""
        self.users[email.lower()] = {
            "id": user_id,
            "team_id": TEAM,
            "name": email.split("@")[0],
            "real_name": name,
            "tz": tz,
            "deleted": False,
            "is_bot": False,
            "profile": {"real_name": name, "display_name": name, "email": email},
            **extra,
        }

    def called(self, method: str) -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == method]

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        raw = await request.text()
        if request.content_type == "application/json":
            parsed: dict[str, Any] = json.loads(raw or "{}")
            return parsed
        return dict(parse_qsl(raw))

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.host = request.host
        # Some slack_sdk methods (conversations.open) send their arguments as query params.
        body = {**dict(request.query), **await self._body(request)}
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.scripted[method]:
            failure = self.scripted[method].popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            payload = {"ok": False, "error": failure.error or "ratelimited"}
            return web.json_response(payload, status=failure.status, headers=headers)
        self.calls.append((method, body))
        if method == "users.lookupByEmail":
            user = self.users.get(str(body.get("email", "")).lower())
            if user is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            return web.json_response({"ok": True, "user": user})
        return web.json_response({"ok": True, **self._answer(method, body)})

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "apps.connections.open":
            return {"url": f"ws://{self.host}/socket"}
        if method == "auth.test":
            return {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM, "team": "Acme"}
        if method in ("chat.postMessage", "chat.update"):
            channel = str(body.get("channel", ""))
            if channel.startswith("U"):
                channel = "D" + channel[1:]
            return {"channel": channel, "ts": body.get("ts") or ts}
        if method == "conversations.open":
            users = sorted(str(body.get("users", "")).split(","))
            return {"channel": {"id": "G" + "_".join(users)}}
        if method == "chat.postEphemeral":
            return {"message_ts": ts}
        if method in ("views.publish", "views.open"):
            return {"view": {"id": f"V{next(self._ts)}"}}
        return {}

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["hook"], await request.json()))
        return web.Response(text="ok")

    def ephemeral_texts(self) -> list[str]:
        return [str(body.get("text", "")) for _hook, body in self.responses]
