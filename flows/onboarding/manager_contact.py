"""Who a participant's manager is: asked in onboarding, only after consent to share.

The answer is an email address or a chat mention. It is stored in `people.profile` as
`manager` (`{"email": ...}` or `{"platform", "workspace", "user_id"}`; `null` when the
person chose not to say) and is only ever used to find the manager among the people the
bot already knows. A roster import may already have put `manager_email` in the profile:
it is offered as the answer, and used when the person was never asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.model.messages import Buttons, Context, Message, Section
from bot.runtime.answers import InvalidAnswer
from bot.runtime.effects import Origin
from bot.runtime.engine import FlowContext, Goto, answer_buttons
from storage.models import Person
from storage.uow import UnitOfWork

SKIP_WORDS = frozenset({"skip", "no", "none", "-", "n/a"})
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_MENTION = re.compile(r"<@(?P<id>[^\s<>|]+)(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class ManagerContact:
    """An email address, a mention (`<@U123>`), or `skip` (stored as an empty string)."""

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if text.lower() in SKIP_WORDS:
            return ""
        mention = _MENTION.fullmatch(text)
        if mention:
            return f"<@{mention['id']}>"
        if _EMAIL.fullmatch(text):
            return text.lower()
        raise InvalidAnswer(
            f"'{text[:60]}' is neither an email address nor a mention. "
            "Type your manager's email (name@example.com), @mention them, or type `skip`"
        )

    def hint(self) -> str:
        return "Your manager's email, an @mention, or `skip`."


def manager_prompt(ctx: FlowContext) -> Message:
    known = ctx.person.profile.get("manager_email")
    text = (
        "Thanks. Who is your manager? Type their email address or @mention them, "
        "or `skip` if you'd rather not say."
    )
    blocks: list[Section | Buttons | Context] = [Section(text=text)]
    if isinstance(known, str) and known:
        text += f" Your roster names {known}."
        blocks = [Section(text=text), answer_buttons(ctx, [(f"Yes, {known}", known)])]
    return Message(
        text=text,
        blocks=[
            *blocks,
            Context(
                text="I only message them at the end of the program, only if I know them, "
                "and only with the summary you agreed to share."
            ),
        ],
    )


async def skip_unless_consented(ctx: FlowContext) -> Goto | None:
    """Only those who agreed to share are asked who their manager is."""
    return None if ctx.data.get("manager_consent") == "yes" else Goto("save")


def contact_from(answer: str, origin: Origin | None) -> dict[str, Any] | None:
    """The stored form of an answer: an email, or a mention resolved on its platform."""
    if not answer:
        return None
    mention = _MENTION.fullmatch(answer)
    if mention is None:
        return {"email": answer}
    if origin is None:
        return None
    return {"platform": origin.platform, "workspace": origin.workspace, "user_id": mention["id"]}


async def find_manager(uow: UnitOfWork, person: Person) -> Person | None:
    """The manager named in the person's profile, when the bot knows them (never themselves)."""
    roster = person.profile.get("manager_email")
    fallback = {"email": roster} if isinstance(roster, str) and roster else None
    # An explicit answer wins, including "rather not say" (stored as null).
    contact = person.profile.get("manager", fallback)
    if not isinstance(contact, dict):
        return None
    found: Person | None = None
    if isinstance(contact.get("email"), str):
        found = await uow.people.by_email(contact["email"])
    elif isinstance(contact.get("user_id"), str):
        identity = await uow.people.find_identity(
            str(contact.get("platform", "")),
            str(contact.get("workspace", "")),
            contact["user_id"],
        )
        found = identity[1] if identity else None
    return None if found is None or found.id == person.id else found
