"""The Learning Record Store's Statement Resource, over HTTP (xAPI 1.0.3)."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import XapiConfig

VERSION_HEADER = "X-Experience-API-Version"
VERSION = "1.0.3"
ERROR_TEXT_LIMIT = 500
REJECTING = frozenset({400, 413, 422})
"""Statuses that refuse what was sent: a bad statement, or a batch too large."""


class Answer(enum.Enum):
    STORED = "stored"
    """2xx: every statement of the batch is stored."""
    CONFLICT = "conflict"
    """409: some id is stored already (maybe with other content); the batch was refused."""
    REJECTED = "rejected"
    """400, 413 or 422: the LRS refuses the batch as it is; sending it again won't help."""
    UNAVAILABLE = "unavailable"
    """Anything else (429, 5xx, a timeout, no connection, ...): try again later."""


@dataclass(frozen=True)
class PostResult:
    answer: Answer
    detail: str = ""
    """Status and the LRS's explanation, for the queue's last_error and the log."""
    retry_after: float | None = None


class LrsClient:
    """POSTs batches of statements with Basic auth and the xAPI version header."""

    def __init__(self, config: XapiConfig) -> None:
        self._url = config.statements_url
        self._headers = {VERSION_HEADER: VERSION, "Content-Type": "application/json"}
        if config.username:
            self._headers["Authorization"] = aiohttp.encode_basic_auth(
                config.username, config.password or ""
            )
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, statements: Sequence[dict[str, Any]]) -> PostResult:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                self._url, data=json.dumps(list(statements)), headers=self._headers
            ) as response:
                text = (await response.text())[:ERROR_TEXT_LIMIT]
                return _classify(response.status, text, response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            return PostResult(Answer.UNAVAILABLE, f"{type(error).__name__}: {error}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _classify(status: int, text: str, retry_after: str | None) -> PostResult:
    detail = f"HTTP {status}: {text}".strip()
    if 200 <= status < 300:
        return PostResult(Answer.STORED)
    if status == 409:
        return PostResult(Answer.CONFLICT, detail)
    if status in REJECTING:
        return PostResult(Answer.REJECTED, detail)
    # 429, 5xx, and also a wrong endpoint or credentials (404, 401, 403): an operator can
    # fix those, so statements wait for it rather than being marked failed.
    return PostResult(Answer.UNAVAILABLE, detail, _seconds(retry_after))


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None  # an HTTP date: the backoff decides instead
