"""Teams activities to neutral events: pure functions over the activity JSON, no I/O.

Shapes follow Microsoft's Bot Framework and Teams documentation: `message` activities
(personal chat, channel and group chat, with `<at>` mentions and entities), Adaptive
Card submissions (`Action.Submit` as a message with `value`, `Action.Execute` as an
`adaptiveCard/action` invoke) and `conversationUpdate` with `membersAdded`.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zoneinfo
from datetime import UTC, datetime
from functools import cache
from typing import Any

from adapters.teams.refs import Ref, Sent
from bot.model.events import (
    FLAG_ACTION,
    ActionInvoked,
    Actor,
    FlaggedMessage,
    FormSubmitted,
    InboundEvent,
    MemberJoined,
    MessageReceived,
)
from bot.model.messages import Message, form_problems

PLATFORM = "teams"
DATA_KEY = "cohortbot"
"""The key of our routing data in a card action's `data`; inputs sit beside it."""
CARD_ACTION = "adaptiveCard/action"
SUBMIT_ACTION = "composeExtension/submitAction"
FLAG_COMMAND = "flagMessage"
"""The message action "Flag for moderators" (teams/manifest.json, composeExtensions)."""
_TAGS = re.compile(r"<[^>]+>")
MAX_EVENT_ID = 120
_FRACTION = re.compile(r"(\.\d{6})\d+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def events(activity: dict[str, Any], *, now: datetime) -> list[InboundEvent]:
    """The neutral events in one activity; empty for activities the bot does not act on."""
    kind = activity.get("type")
    if kind == "message":
        found = message(activity, now=now)
        return [found] if found is not None else []
    if kind == "invoke" and activity.get("name") == CARD_ACTION:
        value = _dict(activity.get("value"))
        found = submission(activity, _dict(_dict(value.get("action")).get("data")), now=now)
        return [found] if found is not None else []
    if kind == "invoke" and activity.get("name") == SUBMIT_ACTION:
        flagged = message_action(activity, now=now)
        return [flagged] if flagged is not None else []
    if kind == "conversationUpdate":
        return members_added(activity, now=now)
    return []


def tenant(activity: dict[str, Any]) -> str:
    """The tenant (the neutral workspace) an activity belongs to."""
    channel_data = _dict(activity.get("channelData"))
    found = _dict(channel_data.get("tenant")).get("id") or _conversation(activity).get("tenantId")
    return str(found or "")


def recipient_id(activity: dict[str, Any]) -> str | None:
    """The bot's own account id in this conversation."""
    found = _dict(activity.get("recipient")).get("id")
    return str(found) if found else None


def is_personal(activity: dict[str, Any]) -> bool:
    """A one-to-one chat between a person and the bot."""
    conversation = _conversation(activity)
    kind = conversation.get("conversationType")
    return kind == "personal" or (kind is None and not conversation.get("isGroup"))


def conversation_reference(activity: dict[str, Any]) -> dict[str, Any]:
    """The conversation reference Bot Framework SDKs store to message a person proactively."""
    reference: dict[str, Any] = {
        "activityId": activity.get("id"),
        "user": activity.get("from"),
        "bot": activity.get("recipient"),
        "conversation": activity.get("conversation"),
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }
    return {key: value for key, value in reference.items() if value is not None}


def message(activity: dict[str, Any], *, now: datetime) -> InboundEvent | None:
    """A typed message, or a card's Action.Submit (a message whose `value` holds the data)."""
    value = activity.get("value")
    if isinstance(value, dict) and DATA_KEY in value:
        return submission(activity, value, now=now)
    sender = _dict(activity.get("from"))
    if not sender.get("id") or sender.get("role") == "bot":
        return None
    text, mentions_bot = mention_text(activity)
    if not text:
        return None
    conversation_id = str(_conversation(activity).get("id", ""))
    channel_id = _channel_id(activity)
    thread = conversation_id if channel_id and ";messageid=" in conversation_id else None
    return MessageReceived(
        **_common(activity, now=now),
        text=text,
        mentions_bot=mentions_bot and not is_personal(activity),
        thread_ref=thread,
    )


def mention_text(activity: dict[str, Any]) -> tuple[str, bool]:
    """The text with the bot's `<at>` mention removed and others as neutral `<@id|name>`."""
    text = str(activity.get("text") or "")
    bot_id = recipient_id(activity)
    mentions_bot = False
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = _dict(entity.get("mentioned"))
        tag = str(entity.get("text") or "")
        if not tag or not mentioned.get("id"):
            continue
        if mentioned.get("id") == bot_id:
            mentions_bot = mentions_bot or tag in text
            text = text.replace(tag, " ")
        else:
            name = str(mentioned.get("name") or _untag(tag)).replace(">", "")
            text = text.replace(tag, f"<@{mentioned['id']}|{name}>")
    return _SPACES.sub(" ", html.unescape(text)).strip(), mentions_bot


def submission(
    activity: dict[str, Any], data: dict[str, Any], *, now: datetime
) -> ActionInvoked | FormSubmitted | None:
    """A card button or form: the routing data render put in the action, plus the inputs."""
    ours = _dict(data.get(DATA_KEY))
    inputs = {str(k): _text(v) for k, v in data.items() if k not in (DATA_KEY, "msteams")}
    common = _common(activity, now=now)
    if ours.get("form"):
        fields = ours.get("fields")
        if isinstance(fields, list):
            inputs = {name: inputs.get(str(name), "") for name in fields}
        return FormSubmitted(**common, form_id=str(ours["form"]), values=inputs)
    if not ours.get("action"):
        return None
    value = _text(ours.get("value", ""))
    if ours.get("input"):
        value = inputs.get(str(ours["input"]), "")
    reply_to = activity.get("replyToId")
    conversation_id = _conversation(activity).get("id")
    card = (
        Sent(str(conversation_id), str(reply_to)).encode() if reply_to and conversation_id else None
    )
    return ActionInvoked(**common, action_id=str(ours["action"]), value=value, message_ref=card)


def refused_form(activity: dict[str, Any]) -> tuple[Message, dict[str, str], dict[str, str]] | None:
    """A card form submitted (Action.Execute or Action.Submit) with bad fields: the form,
    values and problems.

    None when the form is fine (or is not one rendered with its rules): then it is recorded
    like any submission, and the flow checks it again.
    """
    if activity.get("type") == "invoke" and activity.get("name") == CARD_ACTION:
        data = _dict(_dict(_dict(activity.get("value")).get("action")).get("data"))
    elif activity.get("type") == "message":
        data = _dict(activity.get("value"))  # Action.Submit
    else:
        return None
    ours = _dict(data.get(DATA_KEY))
    if not ours.get("form") or not isinstance(ours.get("message"), dict):
        return None
    try:
        form = Message.model_validate(ours["message"])
    except ValueError:
        return None
    values = {str(k): _text(v) for k, v in data.items() if k not in (DATA_KEY, "msteams")}
    problems = form_problems(form.form_rules(), values)
    return (form, values, problems) if problems else None


def message_action(activity: dict[str, Any], *, now: datetime) -> ActionInvoked | None:
    """The "Flag for moderators" message action: the message it was used on, and the note."""
    value = _dict(activity.get("value"))
    if value.get("commandId") != FLAG_COMMAND:
        return None
    message = _dict(value.get("messagePayload"))
    author = _dict(_dict(message.get("from")).get("user"))
    body = _dict(message.get("body"))
    content = str(body.get("content") or "")
    if body.get("contentType") == "html":
        content = html.unescape(_TAGS.sub(" ", content))
    common = _common(activity, now=now)
    where = common["channel_id"] or str(_conversation(activity).get("id", ""))
    ref = f"{where}:{message['id']}" if message.get("id") else None
    flagged = FlaggedMessage(
        text=_SPACES.sub(" ", content).strip()[:2000],
        ref=ref,
        # Teams names the author by their Entra object id, not the bot's user id.
        author_name=str(author.get("displayName") or ""),
        link=str(message.get("linkToMessage") or "") or None,
        note=_text(_dict(value.get("data")).get("note")).strip()[:2000],
    )
    return ActionInvoked(
        **common, action_id=FLAG_ACTION, value=flagged.model_dump_json(), message_ref=ref
    )


def members_added(activity: dict[str, Any], *, now: datetime) -> list[InboundEvent]:
    """The bot installed (one event, from the installer), or people added to a team or chat."""
    bot_id = recipient_id(activity)
    added = [_dict(m) for m in activity.get("membersAdded") or [] if _dict(m).get("id")]
    common = _common(activity, now=now)
    found: list[InboundEvent] = []
    if any(member["id"] == bot_id for member in added) and _dict(activity.get("from")).get("id"):
        found.append(
            MemberJoined(
                **{**common, "event_id": _event_id(common["event_id"], "bot")}, bot_added=True
            )
        )
    if is_personal(activity):
        return found  # the person in their own chat with the bot is not a newcomer
    for member in added:
        if member["id"] == bot_id:
            continue
        found.append(
            MemberJoined(
                **{
                    **common,
                    "event_id": _event_id(common["event_id"], str(member["id"])),
                    "actor": _actor(member, activity, own_time_zone=False),
                }
            )
        )
    return found


def _common(activity: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The fields every event of this activity shares."""
    personal = is_personal(activity)
    conversation_id = str(_conversation(activity).get("id", ""))
    service_url = activity.get("serviceUrl")
    token = (
        Ref(str(service_url), conversation_id, str(activity.get("id") or "")).encode()
        if service_url and conversation_id
        else None
    )
    return {
        "event_id": _event_id(_activity_key(activity), conversation_id),
        "actor": _actor(_dict(activity.get("from")), activity, own_time_zone=True),
        "channel_id": None if personal else _channel_id(activity),
        "is_direct": personal,
        "occurred_at": _timestamp(activity.get("timestamp")) or now,
        "reply_token": token,
        "conversation": conversation_reference(activity) if personal else None,
    }


def _actor(account: dict[str, Any], activity: dict[str, Any], *, own_time_zone: bool) -> Actor:
    zone = _sender_time_zone(activity) if own_time_zone else None
    return Actor(
        platform=PLATFORM,
        workspace=tenant(activity),
        user_id=str(account.get("id", "")),
        display_name=str(account.get("name") or ""),
        time_zone=zone,
    )


def _sender_time_zone(activity: dict[str, Any]) -> str | None:
    """The sender's IANA zone: `localTimezone`, else the clientInfo entity's `timezone`."""
    zone = activity.get("localTimezone")
    if isinstance(zone, str) and zone in _zones():
        return zone
    for entity in activity.get("entities") or []:
        info = _dict(entity)
        zone = info.get("timezone")
        if info.get("type") == "clientInfo" and isinstance(zone, str) and zone in _zones():
            return zone
    return None


def _channel_id(activity: dict[str, Any]) -> str | None:
    """The channel for channel messages (the thread's channel), else the chat's id."""
    channel = _dict(_dict(activity.get("channelData")).get("channel")).get("id")
    if channel:
        return str(channel)
    conversation_id = str(_conversation(activity).get("id", ""))
    return conversation_id.split(";messageid=")[0] or None


def _activity_key(activity: dict[str, Any]) -> str:
    """The activity id, or a digest of the activity when Teams sent none."""
    if activity.get("id"):
        return str(activity["id"])
    body = json.dumps(activity, sort_keys=True, default=str).encode()
    return "sha:" + hashlib.sha256(body).hexdigest()[:32]


def _event_id(*parts: str) -> str:
    """Activity id plus conversation id: Teams resends keep both, so the inbox dedupes them."""
    joined = "@".join(part for part in parts if part)
    if len(joined) <= MAX_EVENT_ID:
        return joined
    return "h:" + hashlib.sha256(joined.encode()).hexdigest()


def _timestamp(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", raw.replace("Z", "+00:00")))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _untag(tag: str) -> str:
    return re.sub(r"</?at>", "", tag)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _conversation(activity: dict[str, Any]) -> dict[str, Any]:
    return _dict(activity.get("conversation"))


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
