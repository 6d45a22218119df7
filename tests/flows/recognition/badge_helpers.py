"""Seeding the activity log and reading awards, for the badge and kudos tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage.models import BadgeAward, Kudos
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import channel_posts, person_id
from tests.harness import Playground


async def cohort_id(playground: Playground, key: str = "pilot-a") -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key(key)
    assert cohort is not None
    return cohort.id


async def seed(
    playground: Playground,
    verb: str,
    handle: str | None,
    *,
    object_ref: str | None = None,
    data: dict[str, Any] | None = None,
    hours_ago: float = 1,
) -> None:
    """One activity row as the flow that owns the verb logs it."""
    who = await person_id(playground, handle) if handle else None
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        uow.activity.append(
            verb=verb,
            at=playground.clock.now() - timedelta(hours=hours_ago),
            person_id=who,
            cohort_id=cohort.id,
            object_ref=object_ref,
            data=data,
        )


async def awards(playground: Playground) -> dict[tuple[str, str], BadgeAward]:
    """Every award, keyed by (person's display name, badge id)."""
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.badges.of_cohort(await cohort_id(playground))
    return {(person.display_name, award.badge): award for award, person in rows}


async def all_kudos(playground: Playground) -> list[Kudos]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(Kudos).order_by(Kudos.id)))


async def badge_posts(playground: Playground) -> list[str]:
    return [
        m["message"]["text"]
        for m in await channel_posts(playground)
        if m["message"]["text"].startswith("\U0001f3c5")
    ]


async def a_badge_pass(playground: Playground) -> None:
    """Let the periodic badge pass run (every 15 minutes in the tests' pilot configuration)."""
    await playground.advance(timedelta(minutes=15))


async def award_rows(playground: Playground) -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        return len(list(await uow.session.scalars(select(BadgeAward))))
