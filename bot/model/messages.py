"""Neutral outgoing messages: text plus blocks, addressed to an audience.

Every platform adapter renders these same models (Block Kit, Adaptive Cards,
HTML in the playground), so a flow never knows which platform it talks to.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True)


class Section(_Block):
    """A paragraph of markdown-ish text (bold with *stars*, links as <url|label>)."""

    type: Literal["section"] = "section"
    text: str


class Fields(_Block):
    """Label/value pairs shown in two columns."""

    type: Literal["fields"] = "fields"
    items: list[tuple[str, str]]


class Button(_Block):
    type: Literal["button"] = "button"
    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"


class Buttons(_Block):
    type: Literal["buttons"] = "buttons"
    buttons: list[Button]


class Option(_Block):
    type: Literal["option"] = "option"
    label: str
    value: str


class Select(_Block):
    type: Literal["select"] = "select"
    label: str
    action_id: str
    options: list[Option]
    multi: bool = False


class Rating(_Block):
    """A 1-5 scale shown as five buttons; the chosen number is the action value."""

    type: Literal["rating"] = "rating"
    label: str
    action_id: str
    low_label: str = "poor"
    high_label: str = "excellent"
    scale: int = 5


class TextInput(_Block):
    """A form field; in forms it is submitted with the others, in chat it is typed.

    With `choices` it is a pick-one list (a select) instead of free text.
    """

    type: Literal["text_input"] = "text_input"
    label: str
    field_id: str
    multiline: bool = False
    placeholder: str = ""
    optional: bool = False
    hint: str = ""
    """Shown in full under the field (a rubric criterion's description)."""
    choices: list[Option] = Field(default_factory=list)
    max_length: int | None = None

    @property
    def rule(self) -> FieldRule:
        return FieldRule(
            field_id=self.field_id,
            required=not self.optional,
            choices=tuple(option.value for option in self.choices),
            max_length=self.max_length,
        )


class FieldRule(BaseModel):
    """What a form field accepts: checked where the form is submitted, before anything is
    recorded, so a bad form stays open with every bad field named."""

    model_config = ConfigDict(frozen=True)

    field_id: str
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int | None = None

    def problem(self, raw: str) -> str | None:
        value = raw.strip()
        if not value:
            if not self.required:
                return None
            return (
                "Please choose one." if self.choices else "Please fill this in (not just spaces)."
            )
        if self.choices and value not in self.choices:
            return "Please choose one of the options."
        if self.max_length is not None and len(value) > self.max_length:
            return f"Please keep this to {self.max_length} characters (it has {len(value)})."
        return None


def form_problems(rules: list[FieldRule], values: Mapping[str, str]) -> dict[str, str]:
    """Every bad field of a submission, by field id (empty when the form is fine)."""
    problems = {}
    for rule in rules:
        problem = rule.problem(values.get(rule.field_id, ""))
        if problem is not None:
            problems[rule.field_id] = problem
    return problems


class Divider(_Block):
    type: Literal["divider"] = "divider"


class Context(_Block):
    """Small grey print under a message: hints, timestamps, who answered."""

    type: Literal["context"] = "context"
    text: str


class ResultBar(_Block):
    type: Literal["result_bar"] = "result_bar"
    label: str
    count: int


class ResultBars(_Block):
    """Horizontal bars with counts, for live poll results."""

    type: Literal["result_bars"] = "result_bars"
    bars: list[ResultBar]

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)


Block = Annotated[
    Section | Fields | Buttons | Select | Rating | TextInput | Divider | Context | ResultBars,
    Field(discriminator="type"),
]


class Message(BaseModel):
    """What is said: a plain-text fallback (always set) and optional rich blocks."""

    model_config = ConfigDict(frozen=True)

    text: str
    blocks: list[Block] = Field(default_factory=list)
    form_id: str | None = None
    """When set, the TextInput blocks form one submission (a modal or card form)."""

    def form_rules(self) -> list[FieldRule]:
        return [block.rule for block in self.blocks if isinstance(block, TextInput)]


class AudienceKind(StrEnum):
    DM = "dm"
    CHANNEL = "channel"
    EPHEMERAL = "ephemeral"
    THREAD = "thread"
    HOME = "home"
    """The person's home page in the app (Slack App Home); replaced, not appended."""
    MODAL = "modal"
    """A form opened over the chat; reply_token carries the platform's trigger."""
    GROUP = "group"
    """A multi-person conversation with `members` (a Slack group DM)."""


class Target(BaseModel):
    """A resolved platform address: where the sender delivers one message."""

    model_config = ConfigDict(frozen=True)

    platform: str
    workspace: str
    kind: AudienceKind
    user_id: str | None = None
    channel_id: str | None = None
    thread_ref: str | None = None
    reply_token: str | None = None
    """Opaque per-request reply handle (Slack response_url, Teams service URL)."""
    conversation: dict[str, Any] | None = None
    """The platform's stored conversation reference, for platforms that DM proactively by it."""
    members: tuple[str, ...] = ()
    """The platform user ids of a GROUP conversation."""

    @property
    def lane(self) -> str:
        """The ordering lane: messages in one lane are delivered in order.

        A channel or a DM is a lane. An ephemeral reply is its own person's lane within the
        channel: it is an answer to that person, and must not queue behind channel posts.
        """
        if self.kind in (AudienceKind.EPHEMERAL, AudienceKind.MODAL, AudienceKind.HOME):
            return f"{self.platform}:{self.workspace}:{self.channel_id or ''}/{self.user_id}"
        if self.kind == AudienceKind.GROUP:
            return f"{self.platform}:{self.workspace}:group:{','.join(sorted(self.members))}"
        if self.kind == AudienceKind.DM:
            # A person's DM is one conversation whether it is named by them or by its id.
            where = self.user_id or self.channel_id or ""
        else:
            where = self.channel_id or self.user_id or ""
        return f"{self.platform}:{self.workspace}:{where}"


SEALED = "sealed:"
"""Marks a button value as secret (an anonymous vote): the value never reaches the inbox.

The dispatcher swaps it for a one-time token before the event is recorded and keeps the
value in memory until the event is processed (`bot.runtime.sealed`)."""


def sealed(value: str) -> str:
    """A button value to be kept out of every stored row."""
    return f"{SEALED}{value}"


FORM_OPEN_ACTION = "form.open"
"""The action of a button that opens a message's form where forms live in a modal."""


class Delivery(BaseModel):
    """One outbox row as the adapter sees it: send new, or update a sent message."""

    model_config = ConfigDict(frozen=True)

    outbox_id: int
    target: Target
    message: Message
    update_of: str | None = None
    """The platform reference of a sent message to replace, if this is an update."""
