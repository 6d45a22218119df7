"""Slack payloads to neutral events: pure functions, no I/O.

Shapes follow Slack's documentation: slash command form bodies, Events API
`event_callback` envelopes, and interactivity payloads (`block_actions`,
`view_submission`, `message_action`).
"""

from __future__ import annotations

import re
from typing import Any

from bot.model.events import (
    FLAG_ACTION,
    ActionInvoked,
    Actor,
    CommandInvoked,
    FlaggedMessage,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessageReceived,
)
from bot.model.messages import FieldRule

PLATFORM = "slack"
SUFFIX = re.compile(r"#\d+$")
"""Slack needs unique action ids in a message; render adds `#n`, translate removes it."""

FLAG_SHORTCUT = "flag_message"


def actor(user_id: str, team_id: str, name: str = "") -> Actor:
    return Actor(platform=PLATFORM, workspace=team_id, user_id=user_id, display_name=name)


def interaction_actor(body: dict[str, Any]) -> Actor:
    """The person behind an interactivity payload (block_actions, view_submission, shortcut)."""
    user = body["user"]
    team = user.get("team_id") or (body.get("team") or {}).get("id", "")
    return actor(user["id"], team, user.get("name", ""))


def _is_dm(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


def command(body: dict[str, Any]) -> CommandInvoked:
    """A `/cohort ...` slash command (form-encoded body)."""
    channel_id = body.get("channel_id")
    return CommandInvoked(
        event_id=f"command:{body['trigger_id']}",
        actor=actor(body["user_id"], body.get("team_id", ""), body.get("user_name", "")),
        channel_id=channel_id,
        is_direct=_is_dm(channel_id) or body.get("channel_name") == "directmessage",
        reply_token=body.get("response_url"),
        text=str(body.get("text", "")),
    )


def direct_message(body: dict[str, Any]) -> MessageReceived | None:
    """A person's message in their DM with the bot (message.im); None for anything else."""
    event = body["event"]
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return None
    return MessageReceived(
        event_id=body["event_id"],
        actor=actor(event["user"], body.get("team_id", "")),
        channel_id=event.get("channel"),
        is_direct=True,
        text=str(event.get("text", "")),
        thread_ref=event.get("thread_ts"),
    )


def mention(body: dict[str, Any], bot_user_id: str | None) -> MessageReceived:
    """`@cohortbot ...` in a channel (app_mention): the bot's own mention is removed."""
    event = body["event"]
    text = str(event.get("text", ""))
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", "", text)
    return MessageReceived(
        event_id=body["event_id"],
        actor=actor(event["user"], body.get("team_id", "")),
        channel_id=event.get("channel"),
        is_direct=False,
        mentions_bot=True,
        text=text.strip(),
        thread_ref=event.get("thread_ts") or event.get("ts"),
    )


def home_opened(body: dict[str, Any]) -> HomeOpened | None:
    event = body["event"]
    if event.get("tab") not in (None, "home"):
        return None
    return HomeOpened(
        event_id=body["event_id"],
        actor=actor(event["user"], body.get("team_id", "")),
        channel_id=event.get("channel"),
        is_direct=True,
    )


def member_joined(body: dict[str, Any], bot_user_id: str | None) -> MemberJoined:
    event = body["event"]
    return MemberJoined(
        event_id=body["event_id"],
        actor=actor(event["user"], event.get("team") or body.get("team_id", "")),
        channel_id=event.get("channel"),
        bot_added=bool(bot_user_id) and event["user"] == bot_user_id,
    )


def _action_value(action: dict[str, Any]) -> str:
    if action.get("selected_option"):
        return str(action["selected_option"]["value"])
    if "selected_options" in action:
        return ",".join(str(option["value"]) for option in action["selected_options"])
    return str(action.get("value", ""))


def block_action(body: dict[str, Any]) -> ActionInvoked | None:
    """The first action of a block_actions payload (Slack sends one per click)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    channel_id = (body.get("channel") or body.get("container") or {}).get("id") or (
        body.get("container") or {}
    ).get("channel_id")
    message = body.get("message") or {}
    return ActionInvoked(
        event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}",
        actor=interaction_actor(body),
        channel_id=channel_id,
        is_direct=_is_dm(channel_id),
        reply_token=body.get("trigger_id"),
        action_id=SUFFIX.sub("", str(action["action_id"])),
        value=_action_value(action),
        message_ref=f"{channel_id}:{message['ts']}" if channel_id and message.get("ts") else None,
    )


def view_submission(body: dict[str, Any]) -> FormSubmitted:
    """A modal's submitted inputs, keyed by the neutral field ids (the block ids)."""
    view = body["view"]
    values: dict[str, str] = {}
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for element in inputs.values():
            values[block_id] = _input_value(element)
    return FormSubmitted(
        event_id=f"view:{view['id']}:{view.get('hash', '')}",
        actor=interaction_actor(body),
        channel_id=None,
        is_direct=True,
        form_id=str(view.get("callback_id", "")),
        values=values,
    )


def form_rules(body: dict[str, Any]) -> list[FieldRule]:
    """What a submitted modal's inputs accept, read from the view Slack sends back.

    The modal is rendered from the neutral form (see `render._input`), so its input
    blocks carry the rules: optional or not, a select's options, a text's max length.
    """
    rules = []
    for block in (body.get("view") or {}).get("blocks") or []:
        if block.get("type") != "input" or not block.get("block_id"):
            continue
        element = block.get("element") or {}
        choices = tuple(
            str(option.get("value", ""))
            for option in element.get("options") or []
            if element.get("type") == "static_select"
        )
        max_length = element.get("max_length")
        rules.append(
            FieldRule(
                field_id=str(block["block_id"]),
                required=not block.get("optional", False),
                choices=choices,
                max_length=int(max_length) if isinstance(max_length, int) else None,
            )
        )
    return rules


def _input_value(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option") or {}
        return str(option.get("value", ""))
    if kind in ("multi_static_select", "checkboxes"):
        return ",".join(str(o["value"]) for o in element.get("selected_options") or [])
    return str(element.get("value") or "")


def flag_shortcut(body: dict[str, Any]) -> ActionInvoked:
    """The "Flag for moderators" message shortcut: the flagged message becomes the value.

    The answer goes to the shortcut's `response_url` (a trigger id opens modals only).
    """
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id")
    ts = str(message.get("ts") or "")
    ref = f"{channel_id}:{ts}" if channel_id and ts else None
    flagged = FlaggedMessage(
        text=str(message.get("text", ""))[:2000],
        ref=ref,
        author_id=message.get("user") or None,
        link=_permalink(body, channel_id, ts),
    )
    return ActionInvoked(
        event_id=f"shortcut:{body['trigger_id']}",
        actor=interaction_actor(body),
        channel_id=channel_id,
        is_direct=_is_dm(channel_id),
        reply_token=body.get("response_url") or body.get("trigger_id"),
        action_id=FLAG_ACTION,
        value=flagged.model_dump_json(),
        message_ref=ref,
    )


def _permalink(body: dict[str, Any], channel_id: str | None, ts: str) -> str | None:
    """Slack's permalink form: the workspace domain, the channel, `p` and the ts digits."""
    domain = (body.get("team") or {}).get("domain")
    if not (domain and channel_id and ts):
        return None
    return f"https://{domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
