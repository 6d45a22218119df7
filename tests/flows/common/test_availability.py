"""Time off and inactivity: `/cohort away`, `/cohort back`, three unanswered prompts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.runtime.effects import Effects
from flows.common.availability import (
    is_program_day,
    next_program_day,
    note_unanswered,
    parse_away_until,
)
from storage.models import Activity, Cohort, Person
from storage.uow import unit_of_work
from tests.harness import Playground, demo_config, running_bot

TODAY = date(2026, 11, 23)


async def person_named(playground: Playground, user_id: str) -> Person:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", user_id)
    assert found is not None
    return found[1]


async def pilot_a(playground: Playground) -> Cohort:
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
    assert cohort is not None
    return cohort


async def test_away_until_a_date_pauses_prompts_through_that_day(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort away until 2026-12-04")

        assert (
            "No prompts, pairings or nudges through Friday 04 December 2026"
            in (await playground.dm_texts("alex"))[-1]
        )
        cohort = await pilot_a(playground)
        async with unit_of_work(playground.bot.sessions) as uow:
            on_dec_4 = await uow.participation.promptable(cohort.id, date(2026, 12, 4))
            on_dec_5 = await uow.participation.promptable(cohort.id, date(2026, 12, 5))
            logged = await uow.activity.count(verb="person.away", cohort_id=cohort.id)
        assert "Alex Schneider" not in [p.display_name for p in on_dec_4]
        assert "Alex Schneider" in [p.display_name for p in on_dec_5]
        assert logged == 1


async def test_back_ends_time_off_early(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort away for 2w")
        assert (await person_named(playground, "alex")).away_until == date(2026, 12, 6)

        await playground.say("alex", "/cohort back")

        assert (await person_named(playground, "alex")).away_until is None
        assert "Welcome back" in (await playground.dm_texts("alex"))[-1]


async def test_a_date_in_the_past_is_refused_and_changes_nothing(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort away until 2026-11-01")

        assert "has passed already" in (await playground.dm_texts("alex"))[-1]
        assert (await person_named(playground, "alex")).away_until is None


async def test_back_when_not_away_says_so(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort back")

        assert "You weren't away" in (await playground.dm_texts("alex"))[-1]


async def test_three_unanswered_prompts_make_a_participant_inactive_until_they_answer(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        cohort = await pilot_a(playground)
        alex = await person_named(playground, "alex")
        became_inactive = []
        for round_number in range(3):
            async with unit_of_work(playground.bot.sessions) as uow:
                effects = Effects(
                    uow,
                    source=f"test:missed:{round_number}",
                    now=playground.clock.now(),
                    platforms=playground.bot.platforms,
                )
                person = await uow.people.get(alex.id)
                assert person is not None
                became_inactive.append(
                    await note_unanswered(effects, cohort, person, "weekly check-in")
                )
        await playground.bot.settle()

        assert became_inactive == [False, False, True]
        async with unit_of_work(playground.bot.sessions) as uow:
            promptable = await uow.participation.promptable(cohort.id, TODAY)
            inactive = await uow.participation.inactive(cohort.id)
        assert alex.id not in [p.id for p in promptable]
        assert [person.id for person, _ in inactive] == [alex.id]
        facilitator_note = (await playground.dm_texts("dana"))[-1]
        assert "Alex Schneider has left 3 prompts in a row unanswered" in facilitator_note
        assert "pause prompts" in (await playground.dm_texts("alex"))[-1]

        # Any answer brings them back: the onboarding question still waits on a click.
        welcome_question = next(
            m
            for m in reversed(await playground.from_bot("alex", where="dm"))
            if "time zone" in m["message"]["text"]
        )
        await playground.click("alex", welcome_question, "Yes")

        async with unit_of_work(playground.bot.sessions) as uow:
            membership = await uow.participation.membership(cohort.id, alex.id)
            reactivated = await uow.session.scalar(
                select(Activity).where(Activity.verb == "participant.reactivated")
            )
        assert membership is not None
        assert membership.inactive_since is None
        assert membership.missed_in_a_row == 0
        assert reactivated is not None


def test_away_accepts_dates_and_lengths_and_explains_the_rest() -> None:
    assert parse_away_until(("until", "2026-12-31"), TODAY) == date(2026, 12, 31)
    assert parse_away_until(("2026-11-23",), TODAY) == TODAY
    assert parse_away_until(("for", "10d"), TODAY) == date(2026, 12, 2)
    assert parse_away_until(("1w",), TODAY) == date(2026, 11, 29)
    for words, reason in (
        (("until", "tomorrow"), "is not a date"),
        (("for", "soon"), "neither a date"),
        (("until", "2028-01-01"), "more than a year"),
        (("until",), "Say until when"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_away_until(words, TODAY)


def test_program_days_skip_holidays_and_weekends() -> None:
    program = demo_config("sqlite+aiosqlite:///unused.db").programs["pilot"]
    assert is_program_day(program, date(2026, 12, 23))
    assert not is_program_day(program, date(2026, 12, 24))  # a program holiday
    assert not is_program_day(program, date(2026, 12, 26))  # a Saturday
    assert next_program_day(program, date(2026, 12, 24)) == date(2026, 12, 28)
