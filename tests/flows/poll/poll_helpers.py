"""Playground steps shared by the poll and quiz tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.model.roles import Role
from storage.models import Activity, Poll, PollVote
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.harness import CHANNEL, Playground


async def members(playground: Playground, *users: str) -> dict[str, int]:
    """Make playground people participants of pilot-a; their person ids by user id."""
    ids: dict[str, int] = {}
    now = playground.clock.now()
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        for user in users:
            person = await uow.people.ensure(
                IdentityFacts(platform="local", workspace="local", user_id=user), now=now
            )
            await uow.cohorts.add_member(
                cohort_id=cohort.id, person_id=person.id, role=Role.PARTICIPANT, now=now
            )
            ids[user] = person.id
    return ids


async def command(playground: Playground, text: str, person: str = "dana") -> None:
    await playground.say(person, text, channel=CHANNEL)


async def live(playground: Playground, prefix: str = "📊", person: str = "dana") -> list[Any]:
    """The poll messages in the channel (an update replaces its message in place)."""
    return [
        m
        for m in await playground.from_bot(person, where="channel")
        if not m["ephemeral"] and m["message"]["text"].startswith(prefix)
    ]


async def vote(playground: Playground, person: str, label: str, message: Any = None) -> None:
    """Click the option `label` on the (only) live poll message."""
    if message is None:
        (message,) = await live(playground, person=person)
    await playground.click(person, message, label)


async def last_reply(playground: Playground, person: str) -> str:
    replies = [m for m in await playground.from_bot(person, where="channel") if m["ephemeral"]]
    return str(replies[-1]["message"]["text"])


async def polls(playground: Playground) -> list[Poll]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(Poll).order_by(Poll.id)))


async def votes(playground: Playground) -> list[PollVote]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(PollVote).order_by(PollVote.voter)))


async def tally(playground: Playground, poll_id: int) -> tuple[list[int], int]:
    async with unit_of_work(playground.bot.sessions) as uow:
        poll = await uow.polls.get(poll_id)
        assert poll is not None
        return await uow.polls.tally(poll)


async def activity(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


def bars(message: Any) -> list[tuple[str, int]]:
    """(label, count) of the result bars in a delivered message."""
    found = next(b for b in message["message"]["blocks"] if b["type"] == "result_bars")
    return [(bar["label"], bar["count"]) for bar in found["bars"]]
