"""Playground steps shared by the check-in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config import AppConfig, parse_config
from storage.models import Activity, CheckinAnswer, CheckinRound, Person
from storage.uow import unit_of_work
from tests.conftest import REPO_ROOT
from tests.harness import CHANNEL, Playground, demo_config

PROMPT = "it's check-in time"


def config_with(database_url: str, **replacements: str) -> AppConfig:
    """The shipped app.yaml with some of its lines replaced (e.g. a start date)."""
    text = (REPO_ROOT / "app.yaml").read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text, environ={"DATABASE_URL": database_url})


def shipped(database_url: str) -> AppConfig:
    return demo_config(database_url)


async def join(playground: Playground, *people: str) -> None:
    for person in people:
        await playground.say(person, "/cohort join pilot-a")


async def prompts(playground: Playground, person: str) -> list[dict[str, Any]]:
    """The check-in questions the person has received by DM."""
    return [
        m for m in await playground.from_bot(person, where="dm") if PROMPT in m["message"]["text"]
    ]


async def submit(
    playground: Playground, person: str, success: str, challenge: str
) -> dict[str, Any]:
    """Fill in the form of the person's latest check-in question; the page's answer."""
    question = (await prompts(playground, person))[-1]
    answer = await playground.post(
        "form",
        {
            "person": person,
            "message_id": question["id"],
            "form_id": question["message"]["form_id"],
            "values": {"success": success, "challenge": challenge},
        },
    )
    await playground.bot.settle()
    return answer


async def channel_posts(playground: Playground) -> list[dict[str, Any]]:
    return [
        m
        for m in await playground.from_bot("dana", where="channel")
        if m["channel_id"] == CHANNEL and not m["ephemeral"]
    ]


async def digests(playground: Playground) -> list[dict[str, Any]]:
    return [
        m
        for m in await channel_posts(playground)
        if m["message"]["text"].startswith("Check-in round")
    ]


async def replies(playground: Playground, person: str) -> list[str]:
    """What the bot answered the person ephemerally in the channel."""
    return [
        m["message"]["text"]
        for m in await playground.from_bot(person, where="channel")
        if m["ephemeral"]
    ]


async def person_id(playground: Playground, handle: str) -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", handle)
    assert found is not None
    return found[1].id


async def names_by_id(playground: Playground) -> dict[int, str]:
    async with unit_of_work(playground.bot.sessions) as uow:
        people = await uow.session.scalars(select(Person))
        return {p.id: p.display_name for p in people}


async def rounds(playground: Playground, kind: str = "weekly") -> list[CheckinRound]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(CheckinRound).where(CheckinRound.kind == kind).order_by(CheckinRound.number)
            )
        )


async def answers(playground: Playground, round_id: int) -> dict[int, CheckinAnswer]:
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(
            select(CheckinAnswer).where(CheckinAnswer.round_id == round_id)
        )
        return {row.person_id: row for row in rows}


async def logged(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )
