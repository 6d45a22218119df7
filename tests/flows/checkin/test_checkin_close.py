"""Closing a round: early by command, and never on a skipped weekend or a holiday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import AppConfig
from tests.flows.checkin.checkin_helpers import (
    config_with,
    digests,
    join,
    logged,
    prompts,
    replies,
    rounds,
    shipped,
    submit,
)
from tests.harness import CHANNEL, Playground, running_bot


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def jump(playground: Playground, to: datetime) -> None:
    await playground.advance(to - playground.clock.now())


def commands_only(database_url: str) -> AppConfig:
    """No weekly cadence: only the facilitator's command opens rounds, so none overlap."""
    return config_with(database_url, **{"checkin: Mon 09:00": "checkin: null"})


async def nudges(playground: Playground, person: str) -> list[str]:
    return [
        m["sent_at"]
        for m in await playground.from_bot(person, where="dm")
        if "gentle nudge" in m["message"]["text"]
    ]


async def test_a_facilitator_closes_the_round_early_and_peers_can_offer_help_at_once(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await submit(playground, "alex", "Shipped the deck", "Nervous presenting")
        await playground.click("alex", await playground.last_dm("alex"), "I'd like help")

        await playground.say("dana", "/cohort checkin close", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1] == (
            "Check-in round 1 is closed: 1 of 2 shared, and the digest is in the channel."
        )
        (digest,) = await digests(playground)
        assert "1 of 2 shared" in digest["message"]["text"]
        await playground.click("priya", digest, "I can help Alex")
        assert (await playground.dm_texts("alex"))[-1].startswith("Priya Raman offered to help")

        await playground.advance(timedelta(hours=48))
        assert len(await digests(playground)) == 1, "the timed close finds the round closed"
        assert await nudges(playground, "priya") == [], "no nudge for a closed round"
        assert len(await logged(playground, "checkin.closed")) == 1
        (round_,) = await rounds(playground)
        assert round_.digest_posted_at is not None


async def test_closing_without_an_open_round_says_how_to_open_one(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")
        await playground.say("dana", "/cohort checkin close", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1] == (
            "No check-in round of Pilot cohort A is open. `/cohort checkin` opens one now."
        )
        await playground.say("alex", "/cohort checkin close", channel=CHANNEL)
        assert (await replies(playground, "alex"))[-1].startswith(
            "Only a facilitator or a program owner"
        )
        assert await digests(playground) == []


async def test_an_open_round_points_the_facilitator_at_close(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1].endswith(
            "`/cohort checkin close` posts it now."
        )


async def test_a_round_opened_on_friday_nudges_on_monday_and_closes_on_tuesday(
    sqlite_url: str,
) -> None:
    async with running_bot(commands_only(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await jump(playground, utc(2026, 11, 27, 9))  # Friday; the cohort is in London
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await submit(playground, "alex", "A win", "A challenge")
        assert (await replies(playground, "dana"))[-1].endswith(
            "The digest goes to the channel Tuesday 01 December 10:00."  # Dana is in Berlin
        )

        await jump(playground, utc(2026, 11, 29, 23, 59))  # the end of Sunday
        assert await nudges(playground, "priya") == []
        assert await digests(playground) == []

        await jump(playground, utc(2026, 11, 30, 9))
        assert await nudges(playground, "priya") == ["2026-11-30T09:00:00Z"]
        await jump(playground, utc(2026, 12, 1, 8, 59))
        assert await digests(playground) == []
        await jump(playground, utc(2026, 12, 1, 9))
        (digest,) = await digests(playground)
        assert digest["sent_at"] == "2026-12-01T09:00:00Z"
        assert "1 of 2 shared" in digest["message"]["text"]


async def test_a_close_due_on_a_holiday_moves_to_the_next_program_day(sqlite_url: str) -> None:
    async with running_bot(commands_only(sqlite_url)) as playground:
        await join(playground, "alex")
        # Tuesday 22 December: the close would fall on Thursday 24th, a holiday, then
        # come Friday 25th (a holiday too) and the weekend: it moves to Monday 28th.
        await jump(playground, utc(2026, 12, 22, 10))
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        assert len(await prompts(playground, "alex")) == 1
        (round_,) = await rounds(playground)
        assert round_.closes_at.replace(tzinfo=UTC) == utc(2026, 12, 28, 10)
        await jump(playground, utc(2026, 12, 23, 10))
        await jump(playground, utc(2026, 12, 27, 23))
        assert await nudges(playground, "alex") == ["2026-12-23T10:00:00Z"]
        assert await digests(playground) == []
        await jump(playground, utc(2026, 12, 28, 10))
        assert len(await digests(playground)) == 1


async def test_help_explains_closing_a_round_early(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await playground.say("dana", "/cohort help checkin", channel=CHANNEL)

        text = (await replies(playground, "dana"))[-1]
        assert "/cohort checkin [close|live|skip|pause|resume]" in text
        assert "at once with `/cohort checkin close`" in text
