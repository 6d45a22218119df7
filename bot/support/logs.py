"""Structured JSON logs: one object per line, ids included, no tokens or message bodies."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SECRET_WORDS = ("token", "secret", "password", "authorization", "text", "body")
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s'\"<>()]+)[^\s'\"<>()]*", re.IGNORECASE)
MAX_ERROR = 200
"""Characters kept of an exception's first line."""
QUIET_LIBRARIES = (
    "aiohttp.access",
    "aiosqlite",
    "sqlalchemy.engine",
    "slack_bolt",
    "slack_sdk",
    "msrest",
    "msal",
    "urllib3",
)
"""Libraries that print request bodies, URLs, headers or statements below WARNING."""


def without_url_paths(text: str) -> str:
    """URLs cut to scheme and host: paths and queries hold response_urls and tokens."""
    return _URL.sub(r"\1/…", text)


def error_summary(error: BaseException) -> str:
    """An exception's type and first line, URLs cut to their host: safe to log.

    Later lines are where libraries put what they sent or got: SQLAlchemy's statement
    and parameters, PostgreSQL's failing row, Slack's response.
    """
    lines = str(error).strip().splitlines()
    first = without_url_paths(lines[0]) if lines else ""
    if len(first) > MAX_ERROR:
        first = first[:MAX_ERROR] + "…"
    name = type(error).__qualname__
    return f"{name}: {first}" if first else name


def redacted_traceback(error: BaseException) -> str:
    """The traceback's frames as Python prints them, each exception by its summary only."""
    parts: list[str] = []
    for link in _chain(error):
        frames = "".join(traceback.format_tb(link.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{error_summary(link)}")
    return "\n\nwhich led to\n\n".join(parts)


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or while handling, oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        hidden = current.__suppress_context__
        current = current.__cause__ or (None if hidden else current.__context__)
    return chain[::-1]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": without_url_paths(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                value = "[redacted]"
            entry[key] = without_url_paths(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def formatException(self, ei: Any) -> str:
        """Frames and exception types, never exception text beyond its first line."""
        error = ei[1]
        return redacted_traceback(error) if isinstance(error, BaseException) else ""


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()
    # A skipped tick is normal under load (the next one catches up); say so only on errors.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def quiet_libraries() -> None:
    """Keep libraries at WARNING whatever the bot's level: below it they log what people sent."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
