"""Requests to the playground exactly as written: no page secret, cookie or Host added."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.local.guard import SECRET_HEADER, cookie_name
from tests.harness import Playground


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    """The JSON answer, or the text when it is not JSON."""
    headers: dict[str, str]


@dataclass
class RawClient:
    """A client that sends only the headers given, like a script on another site could."""

    session: aiohttp.ClientSession
    base: str
    host: str
    """The playground's own Host header, `127.0.0.1:<port>`."""

    async def send(
        self,
        method: str,
        path: str,
        *,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        # A stream, so a large body is not one blocking write.
        body = io.BytesIO(data) if isinstance(data, bytes) else data
        async with self.session.request(
            method, f"{self.base}{path}", data=body, headers=headers or {}
        ) as response:
            text = await response.text(errors="replace")
            try:
                body: Any = await response.json(content_type=None)
            except ValueError:
                body = text
            return Answer(response.status, body, dict(response.headers))

    def page_headers(self, playground: Playground) -> dict[str, str]:
        """What the page's script sends: the secret in its header and its cookie."""
        secret = playground.http.session.headers[SECRET_HEADER]
        return {SECRET_HEADER: secret, "Cookie": f"{cookie_name(self.host)}={secret}"}


@asynccontextmanager
async def raw_client(playground: Playground) -> AsyncIterator[RawClient]:
    base = str(playground.http.make_url("")).rstrip("/")
    host = base.removeprefix("http://")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield RawClient(session, base, host)
