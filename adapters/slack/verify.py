"""Checks on a Slack request before anything reads it: its signature, then its body's shape.

Slack signs `v0:<timestamp>:<raw body>` with the app's signing secret (HMAC-SHA256). The
raw bytes are checked as they arrived, so a body that is not even UTF-8 is refused as
unsigned rather than failing somewhere in a parser.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

MAX_AGE_SECONDS = 5 * 60
"""Slack's replay window: an older (or future) timestamp is refused."""


def signed_by_slack(
    headers: Mapping[str, str], raw: bytes, secret: str, *, now: float | None = None
) -> bool:
    """Whether the request carries a fresh, valid Slack signature over exactly `raw`.

    Not slack_sdk's `SignatureVerifier`: it decodes the body as UTF-8 and raises on a
    timestamp that is not a number or a signature that is not ASCII, where junk must be
    refused quietly; the HMAC here is over the bytes as they arrived.
    """
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    given = headers.get("X-Slack-Signature", "")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(stamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    expected = f"v0={digest.hexdigest()}".encode()
    return hmac.compare_digest(expected, given.encode("utf-8", errors="replace"))


def well_formed(raw: bytes, content_type: str) -> bool:
    """Whether the body is what Slack sends: a JSON object, or a form whose `payload`
    (interactions) is a JSON object."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True)
            payload = form.get("payload")
            if payload is None:  # a slash command
                return all(form.get(field, [""])[0] for field in COMMAND_FIELDS)
            return _interaction_shaped(json.loads(payload[0]))
        return _envelope_shaped(json.loads(text))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past reason
        return False


COMMAND_FIELDS = ("command", "user_id", "team_id")
EVENT_STRINGS = ("type", "user", "text", "channel", "channel_type", "ts", "subtype", "tab")
"""Fields of an event that, where present, Slack always sends as strings."""


def _envelope_shaped(body: object) -> bool:
    """An Events API envelope (or URL verification) whose event, if any, is an object of
    string fields where Slack sends strings."""
    if not isinstance(body, dict):
        return False
    if "event" not in body:
        return True
    event = body["event"]
    return isinstance(event, dict) and all(
        isinstance(event[name], str) for name in EVENT_STRINGS if name in event
    )


def _interaction_shaped(body: object) -> bool:
    """An interaction payload whose parts that routing reads have Slack's types."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return False
    objects = ("user", "view", "team", "channel", "container", "message")
    if any(name in body and not isinstance(body[name], dict | None) for name in objects):
        return False
    if body["type"] == "view_submission" and not isinstance(body.get("view"), dict):
        return False
    actions = body.get("actions", [])
    return isinstance(actions, list) and all(
        isinstance(action, dict) and isinstance(action.get("action_id"), str) for action in actions
    )
