"""Check-ins on the clock: Monday 09:00 in each person's own time zone, and pulse days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.flows.checkin_helpers import (
    answers,
    config_with,
    join,
    logged,
    person_id,
    prompts,
    rounds,
    shipped,
)
from tests.harness import Playground, running_bot


async def walk(playground: Playground, until: datetime) -> None:
    """Advance the clock an hour at a time, so every timer fires at its own hour."""
    while playground.clock.now() < until:
        step = min(timedelta(hours=1), until - playground.clock.now())
        await playground.advance(step)


async def jump(playground: Playground, to: datetime) -> None:
    await playground.advance(to - playground.clock.now())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def sent_at(playground: Playground, person: str) -> list[str]:
    return [m["sent_at"] for m in await prompts(playground, person)]


async def test_prompts_arrive_at_nine_local_in_berlin_and_new_york_across_dst(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "jordan")  # Europe/Berlin and America/New_York
        # Winter on both sides: Berlin is UTC+1, New York UTC-5.
        await walk(playground, utc(2026, 11, 30, 15))
        # The US moves its clocks on 14 March 2027, Europe on 28 March.
        await jump(playground, utc(2027, 3, 14, 18))
        await walk(playground, utc(2027, 3, 15, 15))
        await jump(playground, utc(2027, 3, 28, 18))
        await walk(playground, utc(2027, 3, 29, 15))

        assert await sent_at(playground, "alex") == [
            "2026-11-30T08:00:00Z",
            "2027-03-15T08:00:00Z",
            "2027-03-29T07:00:00Z",
        ]
        assert await sent_at(playground, "jordan") == [
            "2026-11-30T14:00:00Z",
            "2027-03-15T13:00:00Z",
            "2027-03-29T13:00:00Z",
        ]
        assert [r.number for r in await rounds(playground)] == [1, 2, 3]
        assert len(await logged(playground, "checkin.prompted")) == 6


async def test_the_cadence_skips_holidays_and_people_who_are_away(sqlite_url: str) -> None:
    config = config_with(
        sqlite_url, **{"      - 2026-12-24\n": "      - 2026-12-24\n      - 2026-11-30\n"}
    )
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")
        await playground.say("priya", "/cohort away until 2026-12-08")
        await walk(playground, utc(2026, 11, 30, 12))
        assert await rounds(playground) == [], "30 November is a holiday: no round at all"

        await jump(playground, utc(2026, 12, 6, 18))
        await walk(playground, utc(2026, 12, 7, 12))
        (round_,) = await rounds(playground)
        assert set(await answers(playground, round_.id)) == {await person_id(playground, "alex")}
        assert await prompts(playground, "priya") == []
        assert len(await prompts(playground, "alex")) == 1


async def test_a_pulse_on_day_three_asks_for_a_rating_and_a_comment(sqlite_url: str) -> None:
    config = config_with(sqlite_url, **{"start_date: null": "start_date: 2026-11-23"})
    async with running_bot(config) as playground:
        await join(playground, "alex")
        # Day 3 after Monday 23 November is Thursday, 09:00 in Berlin.
        await walk(playground, utc(2026, 11, 26, 7, 59))
        assert not any("Pulse check" in t for t in await playground.dm_texts("alex"))
        await walk(playground, utc(2026, 11, 26, 8))

        question = (await playground.from_bot("alex", where="dm"))[-1]
        assert question["message"]["text"].startswith("Pulse check (day 3)")
        rating = next(b for b in question["message"]["blocks"] if b["type"] == "rating")
        await playground.post(
            "action",
            {
                "person": "alex",
                "message_id": question["id"],
                "action_id": rating["action_id"],
                "value": "9",
            },
        )
        await playground.bot.settle()
        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Sorry, a rating is a whole number"
        )
        await playground.post(
            "action",
            {
                "person": "alex",
                "message_id": question["id"],
                "action_id": rating["action_id"],
                "value": "4",
            },
        )
        await playground.bot.settle()
        await playground.say("alex", "The pairs are great")

        (pulse,) = await rounds(playground, "pulse")
        row = (await answers(playground, pulse.id))[await person_id(playground, "alex")]
        assert (row.rating, row.comment) == (4, "The pairs are great")
        (answered,) = await logged(playground, "pulse.answered")
        assert answered.data == {"rating": 4, "day": 3, "commented": True}
