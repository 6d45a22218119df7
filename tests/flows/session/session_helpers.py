"""Shared steps for the session tests: people join, the facilitator starts, rows are read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot.config import AppConfig, parse_config
from storage.models import Activity, CohortSession
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.harness import CHANNEL, Playground


def session_config(database_url: str, **replacements: str) -> AppConfig:
    """The tests' pilot configuration with some lines replaced, e.g. a setting switched on."""
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text, environ={"DATABASE_URL": database_url})


async def join(playground: Playground, *people: str) -> None:
    for person in people:
        await playground.say(person, "/cohort join pilot-a")


async def start(playground: Playground, person: str = "dana", extra: str = "") -> None:
    await playground.say(person, f"/cohort session start {extra}".strip(), channel=CHANNEL)


async def command(playground: Playground, words: str, person: str = "dana") -> None:
    await playground.say(person, f"/cohort session {words}", channel=CHANNEL)


async def agenda(playground: Playground, person: str = "dana") -> list[dict[str, Any]]:
    """The live agenda messages in the channel (an update replaces, so normally one)."""
    return [
        m
        for m in await playground.from_bot(person, where="channel")
        if not m["ephemeral"] and m["message"]["text"].startswith("Session ")
    ]


async def last_reply(playground: Playground, person: str) -> str:
    replies = [m for m in await playground.from_bot(person, where="channel") if m["ephemeral"]]
    return str(replies[-1]["message"]["text"])


async def here(playground: Playground, *people: str) -> None:
    for person in people:
        (message,) = await agenda(playground, person)
        await playground.click(person, message, "I'm here")


async def person_id(playground: Playground, user: str) -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", user)
    assert found is not None
    return found[1].id


async def sessions(playground: Playground) -> list[CohortSession]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(CohortSession).order_by(CohortSession.id)))


async def rows(playground: Playground, model: type[Any]) -> list[Any]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(model).order_by(model.id)))


async def activity(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


def groups_are(found: Sequence[Sequence[int]], expected: Sequence[Sequence[int]]) -> bool:
    """Equal groups in the same order, whatever the order of members within each."""
    return [sorted(g) for g in found] == [sorted(g) for g in expected]
