"""Whether a JSON body has an activity's shape, before botbuilder or translate read it.

Types follow the Bot Framework activity schema as Teams sends it: the fields translate
reads are strings, accounts and conversations are objects with string ids, lists hold
objects. A field sent as null counts as absent. Every string must be text storage can
keep: UTF-8 (no lone surrogates from `\\ud800` escapes) without NUL characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[object, str], "str | None"]

STRINGS = (
    "type",
    "id",
    "name",
    "text",
    "textFormat",
    "timestamp",
    "localTimestamp",
    "channelId",
    "serviceUrl",
    "locale",
    "localTimezone",
    "replyToId",
    "action",
)
ACCOUNTS = ("from", "recipient")
ACCOUNT_LISTS = ("membersAdded", "membersRemoved")
OBJECT_LISTS = ("entities", "attachments")
ACCOUNT_STRINGS = ("id", "name", "aadObjectId", "role")
CONVERSATION_STRINGS = ("id", "conversationType", "tenantId", "name")
CHANNEL_DATA_OBJECTS = ("tenant", "channel", "team")


def activity_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with an activity's shape, or None when translate can read it."""
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "'type' must be a non-empty string"
    checks = (
        _strings(body, STRINGS, ""),
        *(_account(body.get(name), name) for name in ACCOUNTS),
        *(_objects(body.get(name), name, _account) for name in ACCOUNT_LISTS),
        *(_objects(body.get(name), name, _any_object) for name in OBJECT_LISTS),
        _conversation(body.get("conversation")),
        _channel_data(body.get("channelData")),
        _value(body),
    )
    return next((problem for problem in checks if problem), None) or _unstorable(body)


def _strings(node: dict[str, Any], names: tuple[str, ...], where: str) -> str | None:
    for name in names:
        if node.get(name) is not None and not isinstance(node[name], str):
            return f"'{where}{name}' must be a string"
    return None


def _object(value: object, name: str) -> str | None:
    return None if value is None or isinstance(value, dict) else f"'{name}' must be an object"


def _any_object(value: object, name: str) -> str | None:
    return None if isinstance(value, dict) else f"'{name}' must hold objects"


def _account(value: object, name: str) -> str | None:
    if not isinstance(value, dict):
        return _object(value, name)
    return _strings(value, ACCOUNT_STRINGS, f"{name}.")


def _objects(value: object, name: str, check: Check) -> str | None:
    """A list of objects that pass `check`."""
    if value is None:
        return None
    if not isinstance(value, list):
        return f"'{name}' must be a list"
    for item in value:
        problem = _any_object(item, name) or check(item, name)
        if problem:
            return problem
    return None


def _conversation(value: object) -> str | None:
    if not isinstance(value, dict):
        return _object(value, "conversation")
    if value.get("isGroup") is not None and not isinstance(value["isGroup"], bool):
        return "'conversation.isGroup' must be true or false"
    return _strings(value, CONVERSATION_STRINGS, "conversation.")


def _channel_data(value: object) -> str | None:
    if not isinstance(value, dict):
        return _object(value, "channelData")
    for name in CHANNEL_DATA_OBJECTS:
        inner, path = value.get(name), f"channelData.{name}"
        problem = (
            _strings(inner, ("id",), f"{path}.")
            if isinstance(inner, dict)
            else _object(inner, path)
        )
        if problem:
            return problem
    return None


def _value(body: dict[str, Any]) -> str | None:
    """`value` is an object; an invoke's `action` and its `data` are objects too."""
    value = body.get("value")
    if not isinstance(value, dict):
        return _object(value, "value")
    if body.get("type") != "invoke":
        return None
    action = value.get("action")
    if not isinstance(action, dict):
        return _object(action, "value.action")
    return _object(action.get("data"), "value.action.data")


def _unstorable(body: object) -> str | None:
    """A string anywhere (key or value) that is not UTF-8 text without NUL characters."""
    pending: list[object] = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and not _storable(node):
            return "the activity holds text that is not valid UTF-8"
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
