"""Shared steps for the escalation tests: flag through the playground, read the pings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flows.escalation.view import KIND_LABELS
from storage.models import Activity, Escalation
from storage.uow import unit_of_work
from tests.harness import CHANNEL, Playground


async def flag(
    playground: Playground, reporter: str, message: dict[str, Any], note: str = ""
) -> None:
    """Flag a message through the playground's API, as the message shortcut does."""
    await playground.post("flag", {"person": reporter, "message_id": message["id"], "note": note})
    await playground.bot.settle()


async def rude_message(playground: Playground, author: str = "alex") -> dict[str, Any]:
    """A channel message by `author` that someone can flag."""
    await playground.say(author, "nobody here knows what they are doing", channel=CHANNEL)
    feed = await playground.feed(author)
    return next(m for m in reversed(feed) if m["from"] == author)


async def pings(playground: Playground, person: str) -> list[dict[str, Any]]:
    """The escalation cards in a person's DMs (as they stand now, after updates)."""
    return [
        m
        for m in await playground.from_bot(person, where="dm")
        if m["message"]["text"].split(" #")[0] in KIND_LABELS.values()
    ]


def buttons(card: dict[str, Any]) -> list[str]:
    return [b["label"] for block in card["message"]["blocks"] for b in block.get("buttons", [])]


async def escalations(playground: Playground) -> list[Escalation]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(Escalation).order_by(Escalation.id)))


async def audit(playground: Playground, escalation_id: int) -> list[str]:
    """The actions in an escalation's audit trail, in order."""
    return [action for action, _note in await audit_trail(playground, escalation_id)]


async def audit_trail(playground: Playground, escalation_id: int) -> list[tuple[str, str | None]]:
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.escalations.events(escalation_id)
        return [(row.action, row.note) for row in rows]


async def verbs(playground: Playground) -> list[str]:
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(
            select(Activity.verb)
            .where(Activity.verb.startswith("escalation."))
            .order_by(Activity.id)
        )
        return list(rows)
