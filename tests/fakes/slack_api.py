"""A fake Slack Web API on loopback for the real slack_sdk AsyncWebClient.

Records every call, answers like Slack (ok, channel, ts, view ids), and can be told to
fail the next calls of a method with a 429 and Retry-After, a 5xx, or an error code,
or to add latency. It also accepts response_url posts under /response/.

Tests can also switch on Slack's undisclosed posting limits, measured on the real clock:
a workspace limit over the posting methods (`limit_workspace`, a token bucket, or
`limit_workspace_window`, a sliding window) and Slack's one-post-per-second-per-channel
rule (`limit_per_channel`); above them the fake answers 429 `ratelimited` with a
Retry-After. `accepted`, `refused` and `accepted_times` count what happened. Accepted
chat.postMessage calls are kept per conversation, with their message metadata, and read
back through conversations.history, `posts_to` and `duplicates`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

BOT_USER = "UBOT"
TEAM = "T0001"

POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "conversations.open",
        "views.open",
        "views.publish",
    }
)
"""The methods that post into Slack and share the workspace limit (not response_url posts)."""
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update"})
"""The methods whose `metadata` argument the fake reads and keeps."""


class WorkspaceLimit(Protocol):
    def admit(self, now: float) -> float:
        """0 when a post arriving at `now` is admitted (and counted), else seconds to wait."""
        ...


@dataclass
class TokenBucket:
    """Holds `capacity` posts, refills at `rate` per second, starts full."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def admit(self, now: float) -> float:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class SlidingWindow:
    """At most `posts` admitted posts in any `per_seconds`."""

    posts: int
    per_seconds: float
    admitted: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> float:
        while self.admitted and self.admitted[0] <= now - self.per_seconds:
            self.admitted.popleft()
        if len(self.admitted) < self.posts:
            self.admitted.append(now)
            return 0.0
        return self.admitted[0] + self.per_seconds - now


def conversation_of(channel: str) -> str:
    """The conversation a `channel` argument names: a user id U… means that user's DM D…."""
    return "D" + channel[1:] if channel.startswith("U") else channel


def retry_after(wait: float) -> int:
    """Whole seconds, rounded up, at least 1, as Slack's Retry-After header."""
    return max(1, math.ceil(wait))


def _flag(value: Any) -> bool:
    """A boolean argument as JSON, a form field or a query parameter ("1", "true")."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class _BadMetadata(ValueError):
    pass


def _metadata(value: Any) -> dict[str, Any] | None:
    """chat.postMessage's `metadata`: a JSON object, or one JSON-encoded in a form field."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise _BadMetadata(str(error)) from error
    if not isinstance(value, dict) or "event_type" not in value:
        raise _BadMetadata("metadata needs an event_type")
    return value


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
    """The directory of users.lookupByEmail and users.info: lowercased email -> Slack user."""
    accepted: Counter[str] = field(default_factory=Counter)
    """method -> successful (ok) calls."""
    refused: Counter[str] = field(default_factory=Counter)
    """method -> 429 answers from the workspace and per-channel limits (not fail_next)."""
    accepted_times: list[float] = field(default_factory=list)
    """Arrival times (time.monotonic) of accepted chat.postMessage calls."""
    history: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    """conversation id -> accepted chat.postMessage messages, oldest first."""
    workspace_limit: WorkspaceLimit | None = None
    channel_interval: float | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _posted: list[dict[str, Any]] = field(default_factory=list)
    _last_post: dict[str, float] = field(default_factory=dict)

    def limit_workspace(self, rate: float, *, burst_seconds: float = 3.0) -> None:
        """Posting methods share a token bucket: `rate` per second, bursts of rate*burst_seconds.

        The bucket starts full and holds at least one post.
        """
        if rate <= 0 or burst_seconds <= 0:
            raise ValueError("rate and burst_seconds must be positive")
        capacity = max(1.0, rate * burst_seconds)
        self.workspace_limit = TokenBucket(rate, capacity, capacity, time.monotonic())

    def limit_workspace_window(self, posts: int, per_seconds: float = 60.0) -> None:
        """Posting methods share a sliding window: at most `posts` in any `per_seconds`."""
        if posts < 1 or per_seconds <= 0:
            raise ValueError("posts must be at least 1 and per_seconds positive")
        self.workspace_limit = SlidingWindow(posts, per_seconds)

    def limit_per_channel(self, per_seconds: float = 1.0) -> None:
        """chat.postMessage into one conversation at most once per `per_seconds`."""
        if per_seconds <= 0:
            raise ValueError("per_seconds must be positive")
        self.channel_interval = per_seconds

    def unlimit(self) -> None:
        """Switch every posting limit off again (counters are kept)."""
        self.workspace_limit = None
        self.channel_interval = None
        self._last_post.clear()

    def share_refused(self) -> float:
        """Refused posts / all post attempts over the limited methods (0.0 before any)."""
        refused = sum(self.refused[method] for method in POSTING_METHODS)
        attempts = refused + sum(self.accepted[method] for method in POSTING_METHODS)
        return refused / attempts if attempts else 0.0

    def posts_to(self, channel_or_user: str) -> list[dict[str, Any]]:
        """The accepted chat.postMessage messages in a channel or a user's DM, oldest first."""
        return list(self.history.get(conversation_of(channel_or_user), []))

    def duplicates(self) -> int:
        """Stored messages whose metadata's event_payload.outbox_id was already posted."""
        seen: set[str] = set()
        repeats = 0
        for message in self._posted:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            outbox_id = payload.get("outbox_id") if isinstance(payload, dict) else None
            if outbox_id is None:
                continue
            key = str(outbox_id)
            repeats += key in seen
            seen.add(key)
        return repeats

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
        """A member of the workspace, as users.lookupByEmail and users.info describe one."""
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

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The directory's user with this id, as users.info describes one."""
        return next((user for user in self.users.values() if user["id"] == user_id), None)

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
        arrived = time.monotonic()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.scripted[method]:
            failure = self.scripted[method].popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            payload = {"ok": False, "error": failure.error or "ratelimited"}
            return web.json_response(payload, status=failure.status, headers=headers)
        wait = self._limited(method, body, arrived)
        if wait is not None:
            self.refused[method] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        self.calls.append((method, body))
        if method == "users.lookupByEmail":
            user = self.users.get(str(body.get("email", "")).lower())
            if user is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            self.accepted[method] += 1
            return web.json_response({"ok": True, "user": user})
        if method == "users.info":
            found = self.user(str(body.get("user", "")))
            if found is None:
                return web.json_response({"ok": False, "error": "user_not_found"})
            self.accepted[method] += 1
            return web.json_response({"ok": True, "user": found})
        if method == "conversations.history":
            self.accepted[method] += 1
            return web.json_response({"ok": True, **self._history(body)})
        try:
            metadata = _metadata(body.get("metadata")) if method in MESSAGE_METHODS else None
        except _BadMetadata:
            return web.json_response({"ok": False, "error": "invalid_metadata_format"})
        answer = self._answer(method, body)
        self.accepted[method] += 1
        if method == "chat.postMessage":
            self.accepted_times.append(arrived)
            self._store(answer, body, metadata)
        elif method == "chat.update":
            self._restate(answer, body, metadata)
        return web.json_response({"ok": True, **answer})

    def _limited(self, method: str, body: dict[str, Any], arrived: float) -> int | None:
        """None when the call may go through, else its Retry-After in whole seconds.

        The per-channel check comes first and a refusal there costs no workspace post;
        a post counts against the per-channel limit only once it is admitted.
        """
        if method not in POSTING_METHODS:
            return None
        channel = conversation_of(str(body.get("channel", "")))
        interval = self.channel_interval if method == "chat.postMessage" else None
        if interval is not None:
            last = self._last_post.get(channel)
            if last is not None and arrived - last < interval:
                return 1
        if self.workspace_limit is not None:
            wait = self.workspace_limit.admit(arrived)
            if wait > 0:
                return retry_after(wait)
        if interval is not None:
            self._last_post[channel] = arrived
        return None

    def _store(
        self, answer: dict[str, Any], body: dict[str, Any], metadata: dict[str, Any] | None
    ) -> None:
        """Keep an accepted chat.postMessage under the conversation it went to."""
        message: dict[str, Any] = {
            "type": "message",
            "ts": answer["ts"],
            "text": str(body.get("text", "")),
        }
        if metadata is not None:
            message["metadata"] = metadata
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
            if _flag(body.get("reply_broadcast")):
                message["reply_broadcast"] = True
        self.history[answer["channel"]].append(message)
        self._posted.append(message)

    def _restate(
        self, answer: dict[str, Any], body: dict[str, Any], metadata: dict[str, Any] | None
    ) -> None:
        """chat.update replaces a stored message's text (and metadata, when given)."""
        for message in self.history.get(answer["channel"], []):
            if message["ts"] == answer["ts"]:
                if "text" in body:
                    message["text"] = str(body["text"])
                if metadata is not None:
                    message["metadata"] = metadata

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, thread replies left out, as Slack does.

        Supports channel, oldest and latest (exclusive unless inclusive), limit (default
        100), a cursor from response_metadata.next_cursor, and include_all_metadata.
        """
        channel = conversation_of(str(body.get("channel", "")))
        inclusive = _flag(body.get("inclusive"))
        oldest = float(body.get("oldest") or 0)
        latest = float(body["latest"]) if body.get("latest") else math.inf
        with_metadata = _flag(body.get("include_all_metadata"))
        limit = int(body.get("limit") or 100) or 100
        start = int(body.get("cursor") or 0)
        matching = []
        for message in reversed(self.history.get(channel, [])):
            reply = "thread_ts" in message and message["thread_ts"] != message["ts"]
            if reply and not message.get("reply_broadcast"):
                continue
            ts = float(message["ts"])
            after = ts >= oldest if inclusive else ts > oldest
            before = ts <= latest if inclusive else ts < latest
            if after and before:
                matching.append(message)
        page = matching[start : start + limit]
        messages = []
        for message in page:
            shown = {"type": "message", "ts": message["ts"], "text": message["text"]}
            if with_metadata and "metadata" in message:
                shown["metadata"] = message["metadata"]
            messages.append(shown)
        has_more = start + limit < len(matching)
        answer: dict[str, Any] = {"messages": messages, "has_more": has_more}
        if has_more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "apps.connections.open":
            return {"url": f"ws://{self.host}/socket"}
        if method == "auth.test":
            return {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM, "team": "Acme"}
        if method in ("chat.postMessage", "chat.update"):
            channel = conversation_of(str(body.get("channel", "")))
            return {"channel": channel, "ts": body.get("ts") or ts}
        if method == "conversations.open":
            users = sorted(user.strip() for user in str(body.get("users", "")).split(","))
            if len(users) == 1:
                return {"channel": {"id": conversation_of(users[0])}}
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
