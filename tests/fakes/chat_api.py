"""A fake chat platform on loopback, and a client for it, to test delivery end to end.

The server records every message and can be told to fail the next calls with a 429 and
Retry-After, a 5xx, or a permanent 4xx, the way real chat APIs do.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.model.messages import Delivery
from bot.model.ports import DeliveryError, Rate, RateLimits


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class FakeChatServer:
    received: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[Failure] = field(default_factory=deque)
    calls: int = 0
    latency: float = 0.0
    on_send: Callable[[], Awaitable[None]] | None = None
    """Runs as each send arrives, before it is answered: a test's look at the bot meanwhile."""

    def fail_next(self, *failures: Failure) -> None:
        self.failures.extend(failures)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.on_send is not None:
            await self.on_send()
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.json()
        if self.failures:
            failure = self.failures.popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response({"ok": False}, status=failure.status, headers=headers)
        self.received.append(body)
        return web.json_response({"ok": True, "ref": f"r{len(self.received)}"})

    def texts(self, lane: str) -> list[str]:
        return [m["text"] for m in self.received if m["lane"] == lane]


class FakeChatClient:
    """A PlatformClient speaking HTTP to the fake server, mapping statuses like an adapter."""

    def __init__(self, server: TestServer, limits: RateLimits | None = None) -> None:
        self._url = str(server.make_url("/send"))
        self._limits = limits or RateLimits(per_lane=(Rate(burst=100, per_seconds=1.0),))
        self._session: aiohttp.ClientSession | None = None

    @property
    def platform(self) -> str:
        return "fake"

    @property
    def limits(self) -> RateLimits:
        return self._limits

    async def deliver(self, delivery: Delivery) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = {
            "lane": delivery.target.lane,
            "text": delivery.message.text,
            "update_of": delivery.update_of,
            "thread_of": delivery.target.thread_ref,
        }
        async with self._session.post(self._url, json=body) as response:
            if response.status == 429:
                raise DeliveryError(
                    "rate limited",
                    retry_after=float(response.headers.get("Retry-After", "1")),
                    rate_limited=True,
                )
            if response.status >= 500:
                raise DeliveryError(f"server error {response.status}")
            if response.status >= 400:
                raise DeliveryError(f"rejected with {response.status}", permanent=True)
            return str((await response.json())["ref"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
