"""Bot Connector failures as delivery outcomes: retry later, or give up for good.

Microsoft documents 429 (with Retry-After) and 412, 502, 503, 504 as transient; a 403
whose code says the person blocked the bot or the bot left the conversation means the
recipient cannot be reached; other 4xx will not get better by retrying.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bot.model.ports import DeliveryError, RecipientUnreachable

UNREACHABLE = frozenset(
    {
        "ConversationBlockedByUser",
        "BotNotInConversationRoster",
        "BotDisabledByAdmin",
        "UserNotFound",
        "MemberNotFoundInConversation",
    }
)
TRANSIENT_STATUSES = frozenset({408, 412, 429, 500, 502, 503, 504})


def transient(reason: str) -> DeliveryError:
    return DeliveryError(f"teams: {reason}")


def mapped(error: Any) -> DeliveryError:
    """The delivery outcome of a connector error (msrest's HttpOperationError)."""
    response = getattr(error, "response", None)
    status = int(getattr(response, "status_code", 0) or 0)
    code = error_code(error)
    reason = f"teams: {status} {code}".rstrip()
    if status == 429:
        wait = retry_after(getattr(response, "headers", None))
        return DeliveryError(reason, retry_after=wait, rate_limited=True)
    if status == 403 and code in UNREACHABLE:
        return RecipientUnreachable(reason)
    if status in TRANSIENT_STATUSES or status >= 500 or status == 0:
        return DeliveryError(reason)
    return DeliveryError(reason, permanent=True)


def error_code(error: Any) -> str:
    """The `error.code` of the connector's ErrorResponse body, when it has one."""
    parsed = getattr(getattr(error, "error", None), "error", None)
    code = getattr(parsed, "code", None)
    if code:
        return str(code)
    response = getattr(error, "response", None)
    try:
        body = json.loads(response.text()) if response is not None else {}
    except (ValueError, TypeError, AttributeError):
        return ""
    inner = body.get("error") if isinstance(body, dict) else None
    return str(inner.get("code", "")) if isinstance(inner, dict) else ""


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if present."""
    raw = None
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            raw = str(value).strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
