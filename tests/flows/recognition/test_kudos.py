"""Kudos in the playground: announced, logged, limited per week, never to oneself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.recognition.kudos import week_start
from tests.flows.checkin.checkin_helpers import (
    channel_posts,
    config_with,
    join,
    logged,
    person_id,
    replies,
    shipped,
)
from tests.flows.recognition.badge_helpers import all_kudos
from tests.harness import CHANNEL, running_bot


async def test_kudos_are_announced_in_the_channel_stored_and_logged(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")

        await playground.say(
            "priya", "/cohort kudos @alex for the clear feedback on my deck", channel=CHANNEL
        )

        (kudos,) = await all_kudos(playground)
        alex, priya = await person_id(playground, "alex"), await person_id(playground, "priya")
        assert (kudos.giver_id, kudos.receiver_id, kudos.reason) == (
            priya,
            alex,
            "for the clear feedback on my deck",
        )
        announced = [m["message"]["text"] for m in await channel_posts(playground)]
        assert announced[-1] == (
            "\U0001f44f Priya Raman gave kudos to Alex Schneider: for the clear feedback on my deck"
        )
        assert (await replies(playground, "priya"))[-1] == (
            "Kudos sent to Alex Schneider. You can give 2 more this week."
        )
        (row,) = await logged(playground, "kudos.given")
        assert (row.person_id, row.object) == (priya, f"kudos:{kudos.id}")
        assert row.data == {"receiver_id": alex, "reason": "for the clear feedback on my deck"}


async def test_the_weekly_limit_refuses_a_fourth_kudos_until_monday(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        for number in (1, 2, 3):
            await playground.say("priya", f"/cohort kudos @alex for tip {number}", channel=CHANNEL)
        last = (await replies(playground, "priya"))[-1]
        assert last.endswith("That was your last one this week.")

        await playground.say("priya", "/cohort kudos @jordan for the retro", channel=CHANNEL)

        assert (await replies(playground, "priya"))[-1] == (
            "You've given your 3 kudos for this week in Pilot cohort A; "
            "you can give more from Monday."
        )
        assert len(await all_kudos(playground)) == 3
        assert len(await logged(playground, "kudos.given")) == 3
        await playground.say("jordan", "/cohort kudos @alex for the pairing", channel=CHANNEL)
        assert len(await all_kudos(playground)) == 4, "the limit is per giver"

        # START is Monday 08:00 UTC; the week turns at Monday 00:00 Berlin time.
        await playground.advance(timedelta(days=6, hours=15, minutes=1))
        await playground.say("priya", "/cohort kudos @jordan for the retro", channel=CHANNEL)
        assert len(await all_kudos(playground)) == 5


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/cohort kudos @priya for being me", "Kudos are for thanking someone else."),
        ("/cohort kudos @alex", "Say what the kudos are for, e.g."),
        ("/cohort kudos for nobody in particular", "Mention the person, e.g."),
        ("/cohort kudos @emma for the help", "Emma Dubois is not a member of Pilot cohort A."),
        ("/cohort kudos @alex @jordan for the help", "Mention one person at a time."),
        (f"/cohort kudos @alex {'x' * 501}", "Please keep the reason under 500 characters."),
    ],
)
async def test_refused_kudos_say_why_and_write_nothing(
    sqlite_url: str, command: str, answer: str
) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya", "jordan")

        await playground.say("priya", command, channel=CHANNEL)

        assert (await replies(playground, "priya"))[-1].startswith(answer)
        assert await all_kudos(playground) == []
        assert await logged(playground, "kudos.given") == []


async def test_only_cohort_members_give_kudos(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")

        await playground.say("emma", "/cohort kudos @alex for the help", channel=CHANNEL)

        assert (await replies(playground, "emma"))[-1].startswith("Only a ")
        assert await all_kudos(playground) == []


def test_the_kudos_week_starts_on_monday_midnight_in_the_cohort_time_zone() -> None:
    sunday_evening = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # Monday 07:30 in Tokyo
    assert week_start(sunday_evening, "Europe/Berlin") == datetime(2026, 11, 22, 23, tzinfo=UTC)
    assert week_start(sunday_evening, "Asia/Tokyo") == datetime(2026, 11, 29, 15, tzinfo=UTC)
    assert week_start(sunday_evening, "Not/AZone") == datetime(2026, 11, 23, tzinfo=UTC)


async def test_a_program_can_turn_kudos_off(sqlite_url: str) -> None:
    config = config_with(sqlite_url, **{"kudos_per_week: 3": "kudos_per_week: 0"})
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")

        await playground.say("priya", "/cohort kudos @alex for the tips", channel=CHANNEL)

        assert (await replies(playground, "priya"))[-1] == "Kudos are turned off in Pilot cohort A."
        assert await all_kudos(playground) == []
