"""Neutral inbound events: facts that happened on a platform, already verified."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.model.user_text import UserText


class Actor(BaseModel):
    """A platform user as an adapter knows them."""

    model_config = ConfigDict(frozen=True)

    platform: str
    workspace: str
    user_id: str
    display_name: str = ""
    time_zone: str | None = None
    email: str | None = None


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    """The platform's delivery id, the deduplication key in the inbox."""
    actor: Actor
    channel_id: str | None = None
    is_direct: bool = False
    occurred_at: datetime | None = None
    reply_token: str | None = None
    conversation: dict[str, Any] | None = None
    """The actor's personal conversation reference, for platforms that DM by reference.

    Set only when the event came from the person's one-to-one chat with the bot; the
    dispatcher stores it on the identity and DMs carry it back to the adapter.
    """


class MessageReceived(_Event):
    kind: Literal["message"] = "message"
    text: UserText
    thread_ref: str | None = None
    mentions_bot: bool = False
    """Set for a channel message that addresses the bot (Slack app_mention, Teams @mention)."""


class CommandInvoked(_Event):
    """`/cohort <text>` (Slack slash command, Teams text command, playground)."""

    kind: Literal["command"] = "command"
    text: UserText


class ActionInvoked(_Event):
    """A button, select or rating clicked on a message the bot sent."""

    kind: Literal["action"] = "action"
    action_id: str
    value: str = ""
    message_ref: str | None = None


class FormSubmitted(_Event):
    kind: Literal["form"] = "form"
    form_id: str
    values: dict[str, UserText]


class MemberJoined(_Event):
    """The bot was installed, or a person joined a channel or team the bot is in."""

    kind: Literal["member_joined"] = "member_joined"
    bot_added: bool = False


class HomeOpened(_Event):
    """The person opened the bot's home page (Slack App Home)."""

    kind: Literal["home_opened"] = "home_opened"


InboundEvent = Annotated[
    MessageReceived | CommandInvoked | ActionInvoked | FormSubmitted | MemberJoined | HomeOpened,
    Field(discriminator="kind"),
]


FLAG_ACTION = "moderation.flag"
"""The action of "flag this message for the moderators"; its value is a FlaggedMessage."""


class FlaggedMessage(BaseModel):
    """The message a person flagged, as the adapter saw it (the value of a FLAG_ACTION)."""

    model_config = ConfigDict(frozen=True)

    text: UserText = ""
    ref: str | None = None
    """The platform's id of the message (channel and timestamp, activity id)."""
    author_id: str | None = None
    """The platform user id of whoever wrote it, on the flagging person's platform."""
    author_name: str = ""
    """Their display name, for platforms whose message ids do not match user ids."""
    link: str | None = None
    """A link that opens the message, when the platform gives one."""
    note: UserText = ""
    """What the person added when flagging (may carry #tags)."""
