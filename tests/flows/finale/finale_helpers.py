"""Playground steps shared by the finale tests: a scheduled cohort, onboarding, the survey."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config import AppConfig, parse_config
from storage.models import Activity, OutboxMessage
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.harness import CHANNEL, Playground

SKILLS = ["giving feedback", "presenting", "facilitation", "coaching conversations"]
INTRO = "is coming to an end"
ROSTER = "roster"


def finale_config(database_url: str, *, holiday: str | None = "2026-11-27") -> AppConfig:
    """The tests' pilot configuration, started 2026-10-05: eight weeks end on Sunday 29 November.

    The program skips weekends and, with the extra holiday on Friday 27 November, its
    last program day is Thursday 26 November.
    """
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    replacements = {"start_date: null": "start_date: 2026-10-05"}
    if holiday:
        replacements["      - 2026-12-24\n"] = f"      - {holiday}\n      - 2026-12-24\n"
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text, environ={"DATABASE_URL": database_url})


def block_of(message: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(b for b in message["message"]["blocks"] if b["type"] == kind)


async def rate(playground: Playground, person: str, value: str) -> None:
    """Click a number on the rating the person was asked last."""
    question = await playground.last_dm(person)
    await playground.post(
        "action",
        {
            "person": person,
            "message_id": question["id"],
            "action_id": block_of(question, "rating")["action_id"],
            "value": value,
        },
    )
    await playground.bot.settle()


async def onboard(
    playground: Playground,
    person: str,
    *,
    ratings: tuple[str, str, str, str],
    manager: str | None = None,
) -> None:
    """Join and answer the whole onboarding; consent to share only when a manager is given.

    `manager=ROSTER` confirms the manager a roster import recorded, with its button.
    """
    await playground.say(person, "/cohort join pilot-a")
    await playground.click(person, await playground.last_dm(person), "Yes")
    await playground.say(person, "Product design")
    for answer in ("2", "1", "async", "mornings"):
        await playground.say(person, answer)
    for rating in ratings:
        await rate(playground, person, rating)
    if manager is None:
        await playground.click(person, await playground.last_dm(person), "No, keep it")
        return
    await playground.click(person, await playground.last_dm(person), "Yes, share")
    if manager == ROSTER:
        await playground.click(person, await playground.last_dm(person), "Yes, ")
    else:
        await playground.say(person, manager)


async def answer_finale(
    playground: Playground,
    person: str,
    *,
    ratings: tuple[str, str, str, str],
    value: str = "5",
    recommend: str = "9",
    change: str = "More practice time",
) -> None:
    for rating in ratings:
        await rate(playground, person, rating)
    await rate(playground, person, value)
    await playground.click(person, await playground.last_dm(person), recommend)
    await playground.say(person, change)


async def intros(playground: Playground, person: str) -> list[str]:
    return [t for t in await playground.dm_texts(person) if INTRO in t]


async def queued_intros(playground: Playground) -> list[int | None]:
    """Whom the survey's opening message was queued for, from the outbox (survives restarts)."""
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.person_id for row in rows if INTRO in str(row.message.get("text", ""))]


async def logged(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


async def person_id(playground: Playground, handle: str) -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", handle)
    assert found is not None
    return found[1].id


async def channel_posts(playground: Playground) -> list[str]:
    return [
        m["message"]["text"]
        for m in await playground.from_bot("dana", where="channel")
        if m["channel_id"] == CHANNEL and not m["ephemeral"]
    ]


async def replies(playground: Playground, person: str) -> list[str]:
    return [
        m["message"]["text"]
        for m in await playground.from_bot(person, where="channel")
        if m["ephemeral"]
    ]
