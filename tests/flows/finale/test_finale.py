"""The end of the program in the playground: on the clock, by command, and what it records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from flows.finale.schedule import last_program_day
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.flows.finale.finale_helpers import (
    ROSTER,
    SKILLS,
    answer_finale,
    channel_posts,
    finale_config,
    intros,
    logged,
    onboard,
    person_id,
    queued_intros,
    rate,
    replies,
)
from tests.harness import CHANNEL, Playground, running_bot

FINALE_AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Berlin


async def jump(playground: Playground, to: datetime) -> None:
    await playground.advance(to - playground.clock.now())


async def start_now(playground: Playground, person: str = "dana") -> None:
    await playground.say(person, "/cohort finale start", channel=CHANNEL)


def test_the_last_program_day_moves_back_off_weekends_and_holidays() -> None:
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    program = parse_config(text, environ={}).programs["pilot"]

    # 2026-10-05 + 8 weeks ends on Sunday 29 November: the Friday before.
    assert last_program_day(program, date(2026, 10, 5)) == date(2026, 11, 27)
    # Ending on Sunday 3 January 2027: Friday 1 January is a holiday, Thursday 31 December
    # too, so Wednesday 30 December.
    assert last_program_day(program, date(2026, 11, 9)) == date(2026, 12, 30)


def test_a_reminder_after_the_celebration_is_refused_with_its_field(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        "programs:\n  pilot:\n    skills: [presenting]\n"
        "    finale: {reminder_hours: 100, celebrate_after_hours: 96}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})

    assert str(caught.value).splitlines() == [
        f"{path}: programs.pilot.finale.reminder_hours: must be less than celebrate_after_hours"
    ]


async def test_the_finale_starts_on_the_last_program_day_once_even_after_a_restart(
    database_url: str,
) -> None:
    config = finale_config(database_url)
    async with running_bot(config) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("priya", "/cohort join pilot-a")
        await jump(playground, FINALE_AT - timedelta(minutes=1))
        assert await intros(playground, "alex") == []

        await playground.advance(timedelta(minutes=1))
        assert len(await intros(playground, "alex")) == 1
        assert len(await intros(playground, "priya")) == 1
        alex, priya = await person_id(playground, "alex"), await person_id(playground, "priya")
        (started,) = await logged(playground, "finale.started")
        assert (started.at, started.data) == (FINALE_AT, {"by": None, "invited": 2})
        clock = playground.clock

    clock.advance(timedelta(hours=1))
    async with running_bot(config, clock=clock) as playground:
        await playground.bot.settle()
        await playground.advance(timedelta(days=1))

        queued = await queued_intros(playground)
        assert sorted(queued) == sorted([alex, priya]), "a restart starts nothing again"
        assert len(await logged(playground, "finale.started")) == 1
        assert len(await logged(playground, "finale.invited")) == 2


async def test_without_the_holiday_the_finale_is_on_friday(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url, holiday=None)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await jump(playground, FINALE_AT + timedelta(hours=23))
        assert await intros(playground, "alex") == []

        await playground.advance(timedelta(hours=1))
        assert len(await intros(playground, "alex")) == 1


async def test_the_closing_survey_logs_assessment_completion_and_evaluation(
    database_url: str,
) -> None:
    async with running_bot(finale_config(database_url)) as playground:
        await onboard(playground, "alex", ratings=("2", "4", "3", "1"))
        await start_now(playground)

        await answer_finale(playground, "alex", ratings=("3", "5", "4", "4"))

        questions = [t for t in await playground.dm_texts("alex") if "rate yourself today" in t]
        asked = [t.split("*")[1] for t in questions]
        assert asked == SKILLS + SKILLS, "the post-assessment asks the pre-assessment's skills"

        alex = await person_id(playground, "alex")
        (pre,) = await logged(playground, "assessment.pre")
        (post,) = await logged(playground, "assessment.post")
        assert list(post.data) == list(pre.data) == SKILLS
        assert post.data == {
            "giving feedback": 3,
            "presenting": 5,
            "facilitation": 4,
            "coaching conversations": 4,
        }
        assert (post.person_id, post.cohort_id) == (alex, pre.cohort_id)
        (completed,) = await logged(playground, "program.completed")
        assert (completed.person_id, completed.cohort_id) == (alex, pre.cohort_id)
        (evaluation,) = await logged(playground, "evaluation.answered")
        assert evaluation.person_id == alex
        assert evaluation.data == {"value": 5, "recommend": 9, "change": "More practice time"}
        assert "That's everything" in (await playground.dm_texts("alex"))[-1]


async def test_a_recommendation_outside_0_to_10_is_asked_again(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await start_now(playground)
        for rating in ("3", "3", "3", "3", "4"):
            await rate(playground, "alex", rating)

        await playground.say("alex", "11")
        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Sorry, a rating is a whole number from 0 to 10"
        )
        await playground.say("alex", "very likely")
        assert (await playground.dm_texts("alex"))[-1].startswith("Sorry, a rating")
        assert await logged(playground, "evaluation.answered") == []

        await playground.say("alex", "0")
        await playground.say("alex", "skip")
        (evaluation,) = await logged(playground, "evaluation.answered")
        assert evaluation.data == {"value": 4, "recommend": 0, "change": ""}


async def test_someone_who_stops_half_way_is_reminded_once(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")  # onboarding left unanswered
        await start_now(playground)
        await rate(playground, "alex", "3")
        await playground.advance(timedelta(hours=47))
        assert await finale_reminders(playground, "alex") == []

        await playground.advance(timedelta(hours=2))
        (reminder,) = await finale_reminders(playground, "alex")
        assert "*presenting*" in reminder, "the question still open is the one reminded"

        await rate(playground, "alex", "4")
        await playground.advance(timedelta(days=5))
        assert len(await finale_reminders(playground, "alex")) == 1


async def finale_reminders(playground: Playground, person: str) -> list[str]:
    return [
        t
        for t in await playground.dm_texts(person)
        if t.startswith("Reminder: How would you rate yourself")
    ]


async def test_participants_cannot_start_the_finale(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await start_now(playground, person="alex")

        assert (await replies(playground, "alex"))[-1].startswith(
            "Only a facilitator or a program owner of Pilot cohort A can use `/cohort finale`."
        )
        assert await intros(playground, "alex") == []
        assert await logged(playground, "finale.started") == []


async def test_running_the_finale_twice_sends_nothing_twice(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await start_now(playground)
        assert (await replies(playground, "dana"))[-1] == (
            "The finale of Pilot cohort A has started: I've sent the closing survey to "
            "1 participant by DM. The celebration follows in 96 hours "
            "(or `/cohort finale celebrate`)."
        )
        await start_now(playground, person="olivia")
        assert (await replies(playground, "olivia"))[-1] == (
            "The finale of Pilot cohort A is already running and everyone has been asked."
        )
        await playground.say("priya", "/cohort join pilot-a")
        await start_now(playground)
        assert (await replies(playground, "dana"))[-1].startswith(
            "The finale was already running; I've now also asked 1 participant who"
        )
        await jump(playground, FINALE_AT + timedelta(minutes=5))

        assert len(await intros(playground, "alex")) == 1
        assert len(await intros(playground, "priya")) == 1
        await playground.say("dana", "/cohort finale celebrate", channel=CHANNEL)
        await playground.say("dana", "/cohort finale celebrate", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1] == (
            "The celebration was posted already; nothing was sent again."
        )
        await playground.advance(timedelta(days=5))
        celebrations = [t for t in await channel_posts(playground) if "is complete" in t]
        assert len(celebrations) == 1


async def test_a_misspelt_subcommand_or_an_early_celebration_changes_nothing(
    sqlite_url: str,
) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("dana", "/cohort finale strat", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1].startswith(
            "Unknown finale command 'strat'. Did you mean 'start'?"
        )
        await playground.say("dana", "/cohort finale celebrate", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1] == (
            "Start the finale first: `/cohort finale start`."
        )

        assert await intros(playground, "alex") == []
        assert not [t for t in await channel_posts(playground) if "is complete" in t]
        assert await logged(playground, "finale.started") == []
        assert await logged(playground, "finale.celebrated") == []


async def test_the_status_names_the_day_and_then_the_progress(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("dana", "/cohort finale", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1] == (
            "The finale of Pilot cohort A starts Thursday 26 November 2026 at 10:00 "
            "(your time), the last program day. `/cohort finale start` runs it now."
        )
        await start_now(playground)
        await answer_finale(playground, "alex", ratings=("3", "3", "3", "3"))
        await playground.say("dana", "/cohort finale", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1] == (
            "The finale of Pilot cohort A is running: 1 of 1 asked have completed."
        )


async def seed_activity(playground: Playground) -> None:
    """What the cohort did during the program, as the other flows log it."""
    alex = await person_id(playground, "alex")
    priya = await person_id(playground, "priya")
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        at = playground.clock.now() - timedelta(days=30)
        entries = [
            ("checkin.answered", alex, None),
            ("checkin.answered", alex, None),
            ("checkin.answered", priya, None),
            ("session.started", None, None),
            ("session.started", None, None),
            ("session.attended", alex, None),
            ("review.given", alex, "review:1"),
            ("commitment.made", alex, None),
            ("commitment.made", priya, None),
            ("commitment.kept", alex, None),
        ]
        for verb, who, object_ref in entries:
            uow.activity.append(
                verb=verb, at=at, person_id=who, cohort_id=cohort.id, object_ref=object_ref
            )


async def test_the_celebration_counts_what_the_cohort_did_and_managers_hear_only_with_consent(
    database_url: str,
) -> None:
    async with running_bot(finale_config(database_url)) as playground:
        await onboard(playground, "alex", ratings=("2", "4", "3", "1"), manager="not a manager")
        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Sorry, 'not a manager' is neither an email address nor a mention."
        )
        await playground.say("alex", "Mo@Example.com")
        await onboard(playground, "priya", ratings=("3", "4", "3", "4"))
        async with unit_of_work(playground.bot.sessions) as uow:
            found = await uow.people.find_identity("local", "local", "priya")
            assert found is not None
            # Priya's manager is known, but she said no: that alone must keep Sam out.
            found[1].profile = {**found[1].profile, "manager": {"email": "sam@example.com"}}
        await seed_activity(playground)
        await jump(playground, FINALE_AT)
        await answer_finale(playground, "alex", ratings=("4", "4", "4", "4"))
        await answer_finale(playground, "priya", ratings=("5", "5", "5", "5"))
        assert not [t for t in await channel_posts(playground) if "is complete" in t]

        await playground.advance(timedelta(hours=96))

        (celebration,) = [t for t in await channel_posts(playground) if "is complete" in t]
        assert celebration.splitlines() == [
            "🎉 Pilot cohort A is complete. Thank you all!",
            "Completed: 2 of 2",
            "Check-ins shared: 3",
            "Sessions held: 2",
            "Peer reviews given: 1",
            "Commitments kept: 1 of 2",
            # Awarded by the badge rules: a first check-in each, and completing the program.
            "Badges awarded: 4",
            "Average self-rating: 3.0 → 4.5 (+1.5, +50%) over 2 people",
            "Badges earned: First check-in x2, Pilot graduate x2",
        ]
        summaries = [t for t in await playground.dm_texts("mo") if "has completed" in t]
        assert len(summaries) == 1
        assert summaries[0].startswith("Alex Schneider has completed Pilot cohort A")
        assert "Check-ins shared: 2" in summaries[0]
        assert "Self-rating: coaching conversations: 1 → 4" in summaries[0]
        assert "Self-ratings run from 1 (just starting) to 5 (expert)." in summaries[0]
        assert "More practice time" not in summaries[0], "evaluation answers stay private"
        assert not [t for t in await playground.dm_texts("sam") if "has completed" in t]
        told = "a short summary of your progress"
        assert any("sent Mo Haddad " + told in t for t in await playground.dm_texts("alex"))
        assert not any(told in t for t in await playground.dm_texts("priya"))
        (sent,) = await logged(playground, "manager.summary_sent")
        assert sent.person_id == await person_id(playground, "alex")
        assert sent.data == {"manager_id": await person_id(playground, "mo")}
        async with unit_of_work(playground.bot.sessions) as uow:
            found = await uow.people.find_identity("local", "local", "alex")
        assert found is not None
        assert found[1].profile["manager"] == {"email": "mo@example.com"}
        assert found[1].profile["manager_consent"] is True


async def roster_names_olivia_as_jordans_manager(playground: Playground) -> None:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", "jordan")
        assert found is not None
        # What `cohortbot import-roster` records from the "manager email" column.
        found[1].profile = {"department": "Sales", "manager_email": "olivia@example.com"}


async def test_a_manager_known_from_the_roster_is_offered_and_gets_the_summary(
    sqlite_url: str,
) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await roster_names_olivia_as_jordans_manager(playground)
        await onboard(playground, "jordan", ratings=("1", "1", "1", "1"), manager=ROSTER)
        await start_now(playground)
        await answer_finale(playground, "jordan", ratings=("2", "2", "2", "2"))
        await playground.say("dana", "/cohort finale celebrate", channel=CHANNEL)

        (summary,) = [t for t in await playground.dm_texts("olivia") if "has completed" in t]
        assert summary.startswith("Jordan Lee has completed Pilot cohort A")
        assert "Self-rating: presenting: 1 → 2" in summary


async def test_skipping_the_manager_question_overrides_the_roster(sqlite_url: str) -> None:
    async with running_bot(finale_config(sqlite_url)) as playground:
        await roster_names_olivia_as_jordans_manager(playground)
        await onboard(playground, "jordan", ratings=("1", "1", "1", "1"), manager="skip")
        await start_now(playground)
        await answer_finale(playground, "jordan", ratings=("2", "2", "2", "2"))
        await playground.say("dana", "/cohort finale celebrate", channel=CHANNEL)

        assert [t for t in await channel_posts(playground) if "is complete" in t]
        assert not [t for t in await playground.dm_texts("olivia") if "has completed" in t]
        assert await logged(playground, "manager.summary_sent") == []
