"""Check-ins on the clock: Monday 09:00 in each person's own time zone, and pulse days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import WeeklyTime
from flows.checkin.rounds import local_prompt_time
from tests.flows.checkin.checkin_helpers import (
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


async def jump(playground: Playground, to: datetime) -> None:
    await playground.advance(to - playground.clock.now())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def sent_at(playground: Playground, person: str) -> list[str]:
    return [m["sent_at"] for m in await prompts(playground, person)]


MONDAY_NINE = WeeklyTime.parse("Mon 09:00")
OPENS_FOR_MONDAY_30_NOVEMBER = utc(2026, 11, 29, 19)
"""Rounds open when Monday 09:00 first arrives anywhere (UTC+14): Sunday 19:00 UTC."""


@pytest.mark.parametrize(
    ("now", "berlin", "new_york"),
    [
        # Winter on both sides: Berlin is UTC+1, New York UTC-5.
        (utc(2026, 11, 29, 19), utc(2026, 11, 30, 8), utc(2026, 11, 30, 14)),
        # The US moves its clocks on 14 March 2027, Europe only on 28 March.
        (utc(2027, 3, 14, 19), utc(2027, 3, 15, 8), utc(2027, 3, 15, 13)),
        # Summer on both sides.
        (utc(2027, 3, 28, 19), utc(2027, 3, 29, 7), utc(2027, 3, 29, 13)),
    ],
)
def test_a_prompt_is_due_at_nine_local_time_across_dst(
    now: datetime, berlin: datetime, new_york: datetime
) -> None:
    assert local_prompt_time(MONDAY_NINE, "Europe/Berlin", now) == berlin
    assert local_prompt_time(MONDAY_NINE, "America/New_York", now) == new_york


async def test_prompts_are_sent_at_nine_local_in_berlin_and_new_york_after_dst(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "jordan")  # Europe/Berlin and America/New_York
        await jump(playground, utc(2027, 3, 28, 19))
        (round_,) = await rounds(playground)
        assert await prompts(playground, "alex") == []

        await jump(playground, utc(2027, 3, 29, 7))
        assert await sent_at(playground, "alex") == ["2027-03-29T07:00:00Z"]
        assert await prompts(playground, "jordan") == []

        await jump(playground, utc(2027, 3, 29, 13))
        assert await sent_at(playground, "jordan") == ["2027-03-29T13:00:00Z"]
        assert len(await logged(playground, "checkin.prompted")) == 2
        assert round_.number == 1


async def test_the_cadence_skips_holidays_and_people_who_are_away(sqlite_url: str) -> None:
    config = config_with(
        sqlite_url, **{"      - 2026-12-24\n": "      - 2026-12-24\n      - 2026-11-30\n"}
    )
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")
        await playground.say("priya", "/cohort away until 2026-12-08")
        await jump(playground, OPENS_FOR_MONDAY_30_NOVEMBER)
        await jump(playground, utc(2026, 11, 30, 12))
        assert await rounds(playground) == [], "30 November is a holiday: no round at all"

        await jump(playground, utc(2026, 12, 6, 19))
        await jump(playground, utc(2026, 12, 7, 12))
        (round_,) = await rounds(playground)
        assert set(await answers(playground, round_.id)) == {await person_id(playground, "alex")}
        assert await prompts(playground, "priya") == []
        assert len(await prompts(playground, "alex")) == 1


async def test_a_pulse_on_day_three_asks_for_a_rating_and_a_comment(sqlite_url: str) -> None:
    config = config_with(sqlite_url, **{"start_date: null": "start_date: 2026-11-23"})
    async with running_bot(config) as playground:
        await join(playground, "alex")
        # Day 3 after Monday 23 November is Thursday, 09:00 in Berlin.
        await jump(playground, utc(2026, 11, 26, 7, 59))
        assert not any("Pulse check" in t for t in await playground.dm_texts("alex"))
        await jump(playground, utc(2026, 11, 26, 8))

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
