"""Badges in the playground: rules over the activity log, the periodic pass, manual awards."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError
from bot.runtime.effects import Effects
from flows.recognition import awards as badge_awards
from flows.recognition.awards import NewAward, evaluate
from flows.recognition.rules import longest_streak
from flows.recognition.view import MAX_POST, pack
from storage.db import create_engine, is_sqlite, session_factory
from storage.models import Activity, BadgeAward
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import (
    config_with,
    join,
    logged,
    person_id,
    replies,
    shipped,
    submit,
)
from tests.flows.recognition.badge_helpers import (
    a_badge_pass,
    award_rows,
    awards,
    badge_posts,
    seed,
)
from tests.harness import CHANNEL, Playground, running_bot


async def answer(playground: Playground, *answering: str) -> None:
    for handle in answering:
        await submit(playground, handle, f"{handle} shipped something", "Finding time")


async def next_weekly_round(playground: Playground) -> None:
    """On to Monday 10:00 UTC: the cadence has opened the week's round and prompted everyone.

    The round opens when Monday 09:00 first arrives anywhere (Sunday 19:00 UTC); the clock
    stops there, since a weekly opener missed by more than the grace window is skipped.
    """
    now = playground.clock.now()
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=10, minute=0)
    opens = monday - timedelta(hours=15)
    await playground.advance(opens - now)
    await playground.advance(monday - opens)


async def test_four_weekly_check_ins_earn_the_streak_badge_once_announced_and_by_dm(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await answer(playground, "alex", "priya")
        await a_badge_pass(playground)
        assert set(await awards(playground)) == {
            ("Alex Schneider", "first-checkin"),
            ("Priya Raman", "first-checkin"),
        }
        for answering in (("alex", "priya"), ("alex",)):
            await next_weekly_round(playground)
            await answer(playground, *answering)
        await a_badge_pass(playground)
        assert ("Alex Schneider", "streak-4-weeks") not in await awards(playground)

        await next_weekly_round(playground)
        await answer(playground, "alex", "priya")
        await a_badge_pass(playground)

        held = await awards(playground)
        assert set(held) == {
            ("Alex Schneider", "first-checkin"),
            ("Priya Raman", "first-checkin"),
            ("Alex Schneider", "streak-4-weeks"),
        }, "Priya missed round 3, so rounds 1, 2 and 4 are no streak"
        numbers = [r.data["number"] for r in await logged(playground, "checkin.answered")]
        assert numbers == [1, 1, 2, 2, 3, 4, 4]
        streak = held[("Alex Schneider", "streak-4-weeks")]
        assert (streak.source, streak.awarded_by, streak.reason) == ("rule", None, None)
        posts = await badge_posts(playground)
        assert [p for p in posts if "Four-week streak" in p] == [
            "\U0001f3c5 Alex Schneider earned the *Four-week streak* badge "
            "(Checked in four weeks in a row.)"
        ]
        assert any(
            "You earned the *Four-week streak* badge" in text
            for text in await playground.dm_texts("alex")
        )
        (logged_award,) = [
            row
            for row in await logged(playground, "badge.awarded")
            if row.object == "badge:streak-4-weeks"
        ]
        assert logged_award.person_id == await person_id(playground, "alex")
        assert logged_award.data == {"source": "rule", "awarded_by": None, "reason": None}

        before = (await award_rows(playground), len(await logged(playground, "badge.awarded")))
        await a_badge_pass(playground)
        await a_badge_pass(playground)
        assert (await award_rows(playground), len(await logged(playground, "badge.awarded"))) == (
            before
        )
        assert await badge_posts(playground) == posts, "announced once"


async def test_check_in_rules_count_rounds_by_number_and_a_missed_round_breaks_a_streak(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "lena", "tom")
        for number in (1, 2, 3, 5):
            await seed(playground, "checkin.answered", "lena", data={"number": number})
        for number in (2, 3, 4, 5):
            await seed(playground, "checkin.answered", "tom", data={"number": number})

        await a_badge_pass(playground)

        assert set(await awards(playground)) == {
            ("Lena Vogel", "first-checkin"),
            ("Tom Whitaker", "first-checkin"),
            ("Tom Whitaker", "streak-4-weeks"),
        }
        text = (await badge_posts(playground))[-1]
        assert text.startswith("\U0001f3c5 New badges in Pilot cohort A:")
        assert text.count("•") == 3, "one channel post lists the pass's awards"


async def test_review_rules_count_assignments_once_and_need_two_ratings_averaging_4_5(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "jordan", "aisha", "mateo")
        for assignment in (1, 2, 3):
            await seed(playground, "review.given", "jordan", data={"assignment_id": assignment})
        for assignment in (4, 5, 5):  # one submission logged twice
            await seed(playground, "review.given", "aisha", data={"assignment_id": assignment})
        ratings = [
            (1, "jordan", 5, 3),
            (2, "jordan", 4, 3),
            (4, "aisha", 5, 3),  # only one rating: not enough to judge
            (7, "mateo", 3, 3),
            (7, "mateo", 5, 2),  # the author changed their mind: the later rating counts
            (8, "mateo", 4, 2),
        ]
        for assignment, reviewer, usefulness, hours_ago in ratings:
            await seed(
                playground,
                "review.rated",
                "alex",
                hours_ago=hours_ago,
                data={
                    "assignment_id": assignment,
                    "reviewer_id": await person_id(playground, reviewer),
                    "usefulness": usefulness,
                },
            )

        await a_badge_pass(playground)

        assert set(await awards(playground)) == {
            ("Jordan Lee", "reviews-given-3"),
            ("Jordan Lee", "helpful-reviewer"),
            ("Mateo García", "helpful-reviewer"),
        }


async def test_hosting_a_session_and_completing_the_program_earn_their_badges(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "yuki")
        await playground.say("dana", "/cohort session start", channel=CHANNEL)
        await seed(playground, "program.completed", "yuki")

        await a_badge_pass(playground)

        assert set(await awards(playground)) == {
            ("Dana Fischer", "session-host"),
            ("Yuki Tanaka", "program-completed"),
        }
        assert len(await logged(playground, "session.started")) == 1


async def _evaluate_in(sessions: Any, playground: Playground, source: str) -> list[NewAward]:
    async with unit_of_work(sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        effects = Effects(
            uow, source=source, now=playground.clock.now(), platforms=playground.bot.platforms
        )
        program = playground.bot.config.programs[cohort.program]
        return await evaluate(effects, cohort, program)


async def test_concurrent_passes_award_each_badge_once(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        for handle in ("alex", "priya"):
            for number in (1, 2, 3, 4):
                await seed(playground, "checkin.answered", handle, data={"number": number})
        if is_sqlite(database_url):
            # One process owns a SQLite file, and its single pooled connection queues the
            # two passes; that is the deployment to prove.
            results = await asyncio.gather(
                _evaluate_in(playground.bot.sessions, playground, "test:one"),
                _evaluate_in(playground.bot.sessions, playground, "test:two"),
            )
        else:
            results = await _two_replicas_racing(database_url, playground)

        assert sorted(len(found) for found in results) == [0, 4], "one pass wins every award"
        async with unit_of_work(playground.bot.sessions) as uow:
            rows = await uow.session.scalar(select(func.count(BadgeAward.id)))
            logged_awards = await uow.session.scalar(
                select(func.count(Activity.id)).where(Activity.verb == "badge.awarded")
            )
        assert (rows, logged_awards) == (4, 4)
        await playground.bot.settle()
        assert len(await badge_posts(playground)) == 1


async def _two_replicas_racing(url: str, playground: Playground) -> list[list[NewAward]]:
    """Two engines (two replicas); both have read the log before either inserts."""
    engines = [create_engine(url), create_engine(url)]
    both_read = asyncio.Barrier(2)
    try:
        factories = [session_factory(engine) for engine in engines]

        async def racing(index: int) -> list[NewAward]:
            async with unit_of_work(factories[index]) as uow:
                cohort = await uow.cohorts.by_key("pilot-a")
                assert cohort is not None
                award = uow.badges.award
                first = [True]

                async def award_after_both_read(**values: Any) -> int | None:
                    if first.pop() if first else False:
                        await asyncio.wait_for(both_read.wait(), timeout=5)
                    return await award(**values)

                uow.badges.award = award_after_both_read  # type: ignore[method-assign]  # hold the race
                effects = Effects(
                    uow,
                    source=f"test:{index}",
                    now=playground.clock.now(),
                    platforms=playground.bot.platforms,
                )
                return await evaluate(effects, cohort, playground.bot.config.programs["pilot"])

        return list(await asyncio.gather(racing(0), racing(1)))
    finally:
        for engine in engines:
            await engine.dispose()


def test_a_streak_is_the_longest_run_of_consecutive_round_numbers() -> None:
    assert longest_streak([]) == 0
    assert longest_streak([3]) == 1
    assert longest_streak([1, 2, 4, 5, 6, 7, 9]) == 4
    assert longest_streak([2, 2, 3]) == 2, "a round answered twice counts once"


async def test_a_facilitator_awards_a_badge_by_hand_once(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")

        await playground.say(
            "dana", "/cohort badge award @alex session-host for running our retro", channel=CHANNEL
        )

        award = (await awards(playground))[("Alex Schneider", "session-host")]
        assert (award.source, award.reason) == ("manual", "for running our retro")
        assert award.awarded_by == await person_id(playground, "dana")
        assert (await replies(playground, "dana"))[-1] == (
            "Awarded the Session host badge to Alex Schneider."
        )
        assert (await badge_posts(playground)) == [
            "\U0001f3c5 Dana Fischer awarded Alex Schneider the *Session host* badge: "
            "for running our retro"
        ]
        assert "Congratulations! You earned the *Session host* badge in Pilot cohort A." in (
            await playground.dm_texts("alex")
        )
        (row,) = await logged(playground, "badge.awarded")
        assert row.data == {
            "source": "manual",
            "awarded_by": award.awarded_by,
            "reason": "for running our retro",
        }

        await playground.say("dana", "/cohort badge award @alex Session host", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1] == (
            "Alex Schneider already has the Session host badge."
        )
        assert len(await logged(playground, "badge.awarded")) == 1
        assert len(await badge_posts(playground)) == 1


@pytest.mark.parametrize(
    ("who", "command", "answer"),
    [
        ("priya", "/cohort badge award @alex session-host", "Only a facilitator or a program"),
        ("dana", "/cohort badge award @alex golden-star", "There is no badge 'golden-star'."),
        ("dana", "/cohort badge award @emma session-host", "Emma Dubois is not a member of"),
        ("dana", "/cohort badge award session-host", "Mention the person, e.g."),
        ("dana", "/cohort badge award @alex", "Which badge?"),
    ],
)
async def test_a_refused_award_says_why_lists_the_badges_and_writes_nothing(
    sqlite_url: str, who: str, command: str, answer: str
) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya")

        await playground.say(who, command, channel=CHANNEL)

        reply = (await replies(playground, who))[-1]
        assert reply.startswith(answer), reply
        if who == "dana":
            assert "`session-host` (Session host)" in reply, "the badges are listed"
        assert await award_rows(playground) == 0
        assert await logged(playground, "badge.awarded") == []


async def test_badges_lists_the_program_badges_with_their_holders_and_mine_lists_yours(
    sqlite_url: str,
) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await seed(playground, "checkin.answered", "alex", data={"number": 1})
        await a_badge_pass(playground)

        await playground.say("priya", "/cohort badges", channel=CHANNEL)
        listing = (await replies(playground, "priya"))[-1]
        await playground.say("priya", "/cohort badges mine", channel=CHANNEL)
        priyas = (await replies(playground, "priya"))[-1]
        await playground.say("alex", "/cohort badges mine", channel=CHANNEL)
        alexs = (await replies(playground, "alex"))[-1]

        assert listing.startswith("Badges of Pilot cohort A")
        assert "• *First check-in* (`first-checkin`): Shared a first" in listing
        assert "— Alex Schneider" in listing
        assert "*Pilot graduate* (`program-completed`): Completed the program. — nobody yet" in (
            listing
        )
        assert priyas.startswith("You have no badges in Pilot cohort A yet.")
        assert alexs.startswith("Your badges in Pilot cohort A:\n• *First check-in*")


async def test_me_shows_my_badges_and_kudos(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort badge award @alex session-host", channel=CHANNEL)
        await playground.say("priya", "/cohort kudos @alex for the tips", channel=CHANNEL)

        await playground.say("alex", "/cohort me")

        page = (await playground.from_bot("alex", where="dm"))[-1]["message"]
        fields = {label: value for b in page["blocks"] for label, value in b.get("items", [])}
        assert fields["Badges"] == "\U0001f3c5 Session host"
        assert fields["Kudos received"] == "1"
        assert fields["Your role"] == "participant"


async def test_a_manual_badge_is_never_awarded_by_the_rule_pass(sqlite_url: str) -> None:
    config = config_with(sqlite_url, **{"rule: program_completed": "rule: manual"})
    async with running_bot(config) as playground:
        await join(playground, "yuki")
        await seed(playground, "program.completed", "yuki")
        await a_badge_pass(playground)
        assert await awards(playground) == {}

        await playground.say("dana", "/cohort badge award @yuki program-completed", channel=CHANNEL)

        assert set(await awards(playground)) == {("Yuki Tanaka", "program-completed")}


def test_recognition_settings_are_validated(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="kudos_per_week"):
        config_with(sqlite_url, **{"kudos_per_week: 3": "kudos_per_week: -1"})
    with pytest.raises(ConfigError, match="check_every_minutes"):
        config_with(sqlite_url, **{"check_every_minutes: 15": "check_every_minutes: 0"})


PARTICIPANTS = ("alex", "priya", "jordan", "lena", "tom", "aisha")


async def test_a_pass_with_many_awards_announces_them_grouped_by_badge(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, *PARTICIPANTS)
        for handle in PARTICIPANTS:
            for number in (1, 2, 3, 4):
                await seed(playground, "checkin.answered", handle, data={"number": number})

        await a_badge_pass(playground)

        assert len(await awards(playground)) == 12
        (post,) = await badge_posts(playground)
        assert post.splitlines() == [
            "\U0001f3c5 New badges in Pilot cohort A:",
            "• *First check-in* (6): Aisha Bello, Alex Schneider, Jordan Lee, Lena Vogel, "
            "Priya Raman, Tom Whitaker",
            "• *Four-week streak* (6): Aisha Bello, Alex Schneider, Jordan Lee, Lena Vogel, "
            "Priya Raman, Tom Whitaker",
        ]
        for handle in PARTICIPANTS:
            congratulated = [t for t in await playground.dm_texts(handle) if "You earned" in t]
            assert congratulated == [
                "Congratulations! You earned the *First check-in*, *Four-week streak* badges "
                "in Pilot cohort A."
            ], "one DM per person per pass"


def test_long_announcements_are_split_into_posts_within_the_section_limit() -> None:
    lines = [f"• {'x' * 90} {number}" for number in range(100)]

    posts = pack("\U0001f3c5 New badges:", lines)

    assert len(posts) > 1
    assert all(len(post) <= MAX_POST for post in posts)
    assert all(post.startswith("\U0001f3c5 New badges:\n") for post in posts)
    assert [line for post in posts for line in post.splitlines()[1:]] == lines


async def test_a_failing_pass_awards_nothing_half_and_the_next_pass_still_runs(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex")
        await seed(playground, "checkin.answered", "alex", data={"number": 1})
        announce = badge_awards.announce

        async def broken(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("the channel is gone")

        monkeypatch.setattr(badge_awards, "announce", broken)
        await a_badge_pass(playground)
        assert await awards(playground) == {}, "the award rolled back with its announcement"
        assert await logged(playground, "badge.awarded") == []

        monkeypatch.setattr(badge_awards, "announce", announce)
        await a_badge_pass(playground)
        assert set(await awards(playground)) == {("Alex Schneider", "first-checkin")}
        assert len(await badge_posts(playground)) == 1
