"""KPIs from a hand-written activity log, checked against hand counts on both backends.

Cohort A starts Monday 2 November 2026 (Berlin): week 1 is 2-8 November, week 2 is
9-15 November. Six people are invited, five join (Ann, Ben, Cal, Dee, Eve; Fay is only
invited). Each comment below says what the seeded rows must add up to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import KpiThreshold, LowerIsBetterThreshold
from flows.reports.kpis import (
    KpiReport,
    ReportError,
    Status,
    Trend,
    cohort_report,
    cohort_series,
    current_week,
    program_report,
    program_series,
    status_of,
)
from flows.reports.view import report_message
from tests.flows.reports.kpi_helpers import Seeder, berlin, reading, seeded
from tests.harness import demo_config

NOW = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)  # Saturday of week 2
JOINED = ("ann", "ben", "cal", "dee", "eve")
PROGRAM = demo_config("sqlite+aiosqlite://").programs["pilot"]


async def seed_cohort_a(seeder: Seeder) -> None:
    await seeder.cohort("a", start=date(2026, 11, 2))
    await seeder.person(*JOINED, "fay", "fred")
    log = seeder.log
    await log("a", "cohort.invited", berlin(2, 9), *JOINED, "fay")
    await log("a", "cohort.joined", berlin(2, 10), *JOINED)
    await log("a", "onboarding.completed", berlin(2, 11), "ann", "ben", "cal", "dee")
    await log("a", "assessment.pre", berlin(2, 11), "ann", data={"x": 2, "y": 4})  # avg 3
    await log("a", "assessment.pre", berlin(2, 11), "ben", data={"x": 3, "y": 3})  # avg 3
    await log("a", "assessment.pre", berlin(2, 11), "cal", data={"x": 4, "y": 4})  # no post

    # Week 1 check-in: 3 of 5 answered (0.6, amber).
    await log("a", "checkin.prompted", berlin(2, 9), *JOINED, obj="checkin_round:1")
    await log("a", "checkin.answered", berlin(2, 15), "ann", "ben", "cal", obj="checkin_round:1")
    await log("a", "checkin.missed", berlin(4, 9), "dee", "eve", obj="checkin_round:1")
    # Week 2 check-in: 2 of 5 answered (0.4, red); Ben answers a day late, still counted.
    await log("a", "checkin.prompted", berlin(9, 9), *JOINED, obj="checkin_round:2")
    await log("a", "checkin.answered", berlin(9, 12), "ann", obj="checkin_round:2")
    await log("a", "checkin.answered", berlin(10, 12), "ben", obj="checkin_round:2")
    await log("a", "checkin.missed", berlin(11, 9), "cal", "dee", "eve", obj="checkin_round:2")

    # Session 1: 4 of 5 active came (0.8, green). Eve goes inactive before session 2,
    # which 2 of the 4 still active attend (0.5, red); Fred (staff) attending is ignored.
    await log("a", "session.started", berlin(4, 15), "fred", obj="session:1", data={"number": 1})
    await log("a", "session.attended", berlin(4, 15), "ann", "ben", "cal", "dee", obj="session:1")
    await log("a", "participant.inactive", berlin(10, 9), "eve")
    await log("a", "session.started", berlin(11, 15), "fred", obj="session:2", data={"number": 2})
    await log("a", "session.attended", berlin(11, 15), "ann", "ben", "fred", obj="session:2")
    # Ratings: week 1 5 and 4 (4.5); week 2 4, 3, 3 (3.33, red).
    for rating, handle, day in ((5, "ann", 4), (4, "ben", 4), (4, "ann", 11), (3, "ben", 11)):
        await log("a", "session.rated", berlin(day, 16), handle, data={"rating": rating})
    await log("a", "session.rated", berlin(11, 16), "cal", data={"rating": 3})

    # Week 2 reviews: 2 days and 30 days, 16 days on average (amber); Ann reviewed Ben,
    # Cal reviewed Dee. Ben gives one kudos: 3 pieces of feedback from 4 active (0.75).
    await log(
        "a",
        "review.given",
        berlin(10),
        "ann",
        data={"author_id": 0, "turnaround_hours": 48.0, "on_time": True},
    )
    await log(
        "a",
        "review.given",
        berlin(12),
        "cal",
        data={"author_id": 0, "turnaround_hours": 720.0, "on_time": False},
    )
    await log("a", "review.completed", berlin(10), "ben")
    await log("a", "kudos.given", berlin(12), "ben")
    # Week 2 commitments: 3 made, 2 kept, 1 not (0.67, amber).
    await log("a", "commitment.made", berlin(11, 16), "ann", "ben", "cal")
    await log("a", "commitment.kept", berlin(13), "ann", "ben")
    await log("a", "commitment.not_kept", berlin(13), "cal")
    # Post-assessment in week 2: Ann 4 (up from 3), Ben 3 (flat): 7 vs 6, +16.7% (green).
    await log("a", "assessment.post", berlin(13), "ann", data={"x": 4, "y": 4})
    await log("a", "assessment.post", berlin(13), "ben", data={"x": 3, "y": 3})
    # "Did you meet?": group 3 was asked in week 1 and said yes in week 2 (week 1: 1 of 1);
    # in week 2 group 1 met (one yes is enough), group 2 never answered: 1 of 2 (red).
    await log("a", "pairing.meet_asked", berlin(6), "ann", obj="match_group:3")
    await log("a", "pairing.met", berlin(9), "ann", obj="match_group:3", data={"met": True})
    await log("a", "pairing.meet_asked", berlin(12), "ann", "ben", obj="match_group:1")
    await log("a", "pairing.met", berlin(12, 13), "ann", obj="match_group:1", data={"met": True})
    await log("a", "pairing.met", berlin(12, 14), "ben", obj="match_group:1", data={"met": False})
    await log("a", "pairing.meet_asked", berlin(12), "cal", "dee", obj="match_group:2")


async def report_a(seeder: Seeder, week: int | None) -> KpiReport:
    cohort = await seeder.get_cohort("a")
    async with reading(seeder) as uow:
        return await cohort_report(uow, cohort=cohort, program=PROGRAM, week=week, now=NOW)


def figures(report: KpiReport) -> dict[str, tuple[float | None, Status]]:
    return {k.key: (None if k.value is None else round(k.value, 3), k.status) for k in report.kpis}


async def test_every_kpi_of_a_week_matches_the_hand_count(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        report = await report_a(seeder, 2)

    assert figures(report) == {
        "engagement": (0.5, Status.RED),
        "participation_rate": (0.4, Status.RED),
        "attendance": (0.5, Status.RED),
        "satisfaction": (3.333, Status.RED),
        "feedback_per_participant": (0.75, Status.GREEN),
        "review_turnaround_days": (16.0, Status.AMBER),
        "commitments_kept": (0.667, Status.AMBER),
        "skill_improvement": (0.167, Status.GREEN),
        "meet_rate": (0.5, Status.RED),
    }
    assert (report.funnel.invited, report.funnel.engaged) == (6, 3)
    assert (report.funnel.reviewed, report.funnel.improved) == (3, 1), "Ann, Ben, Cal; Ann"
    assert [(s.number, s.attended, s.expected) for s in report.sessions] == [(2, 2, 4)]
    assert report.satisfaction == {1: 0, 2: 0, 3: 2, 4: 1, 5: 0}
    assert (report.reviews_given, report.kudos, report.reviews_on_time) == (2, 1, 1)
    assert (report.commitments_made, report.commitments_kept) == (3, 2)
    assert [(n.name, n.reasons) for n in report.nudges] == [
        ("Dee", ("missed the last 2 check-ins",)),
        ("Eve", ("inactive since 10 Nov", "missed the last 2 check-ins")),
    ]


async def test_the_week_before_gives_the_trend(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        first = await report_a(seeder, 1)
        second = await report_a(seeder, 2)

    assert figures(first)["participation_rate"] == (0.6, Status.AMBER)
    assert figures(first)["attendance"] == (0.8, Status.GREEN)
    assert figures(first)["satisfaction"] == (4.5, Status.GREEN)
    assert figures(first)["meet_rate"] == (1.0, Status.GREEN)
    assert figures(first)["review_turnaround_days"] == (None, Status.NO_DATA)
    assert figures(first)["skill_improvement"] == (None, Status.NO_DATA), "no post yet"
    assert first.nudges == (), "nobody had missed two in a row by the end of week 1"
    assert all(k.previous is None and k.trend is None for k in first.kpis)

    participation = second.kpi("participation_rate")
    assert (participation.previous, participation.trend) == (0.6, Trend.DOWN)
    assert second.kpi("engagement").trend == Trend.FLAT
    assert second.kpi("review_turnaround_days").trend is None, "no reviews in week 1"


async def test_the_weekly_series_matches_each_week_asked_alone(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        cohort = await seeder.get_cohort("a")
        async with reading(seeder) as uow:
            series = await cohort_series(uow, cohort=cohort, program=PROGRAM, now=NOW)
        alone = [await report_a(seeder, 1), await report_a(seeder, 2)]

    assert [r.week for r in series] == [1, 2]
    assert series == tuple(alone)
    assert series[1].kpi("participation_rate").previous == 0.6


async def test_the_program_so_far_counts_every_week(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        report = await report_a(seeder, None)
        cohort = await seeder.get_cohort("a")

    assert figures(report)["participation_rate"] == (0.5, Status.RED)  # 5 of 10
    assert figures(report)["attendance"] == (round(6 / 9, 3), Status.AMBER)
    assert figures(report)["satisfaction"] == (3.8, Status.AMBER)  # 19 / 5
    assert figures(report)["meet_rate"] == (round(2 / 3, 3), Status.AMBER)
    assert report.kpi("feedback_per_participant").value == pytest.approx(3 / (4 * 2))
    assert report.week is None
    assert current_week(cohort, NOW) == 2


async def test_a_program_adds_up_its_cohorts_each_in_its_own_week(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        await seeder.cohort("b", start=date(2026, 11, 9))
        await seeder.person("gus", "hal")
        await seeder.log("b", "cohort.joined", berlin(9, 8), "gus", "hal")
        # B's week 1 is A's week 2: 1 of 2 answered there; A's week 1 gave 3 of 5.
        await seeder.log("b", "checkin.prompted", berlin(9, 9), "gus", "hal", obj="checkin_round:7")
        await seeder.log("b", "checkin.answered", berlin(9, 10), "gus", obj="checkin_round:7")
        async with reading(seeder) as uow:
            report = await program_report(
                uow, program_key="pilot", program=PROGRAM, week=1, now=NOW
            )

    assert report.scope == "program"
    assert report.kpi("participation_rate").value == pytest.approx(4 / 7)
    assert report.funnel.invited == 8
    assert {s.cohort for s in report.sessions} == {"a"}


async def test_the_program_series_matches_each_program_week_asked_alone(
    database_url: str,
) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        await seeder.cohort("b", start=date(2026, 11, 9))
        await seeder.cohort("unscheduled", start=None)
        await seeder.person("gus", "hal")
        await seeder.log("b", "cohort.joined", berlin(9, 8), "gus", "hal")
        await seeder.log("b", "checkin.prompted", berlin(9, 9), "gus", "hal", obj="checkin_round:7")
        await seeder.log("b", "checkin.answered", berlin(9, 10), "gus", obj="checkin_round:7")
        async with reading(seeder) as uow:
            series = await program_series(uow, program_key="pilot", program=PROGRAM, now=NOW)
            alone = [
                await program_report(uow, program_key="pilot", program=PROGRAM, week=w, now=NOW)
                for w in (1, 2)
            ]

    assert [r.week for r in series] == [1, 2], "A is in its week 2, B in its week 1"
    assert series == tuple(alone)
    assert series[0].kpi("participation_rate").value == pytest.approx(4 / 7)


async def test_a_cohort_without_a_start_date_has_no_weeks_but_a_report_so_far(
    database_url: str,
) -> None:
    async with seeded(database_url) as seeder:
        await seeder.cohort("u", start=None)
        cohort = await seeder.get_cohort("u")
        async with reading(seeder) as uow:
            with pytest.raises(ReportError, match="no start date"):
                await cohort_report(uow, cohort=cohort, program=PROGRAM, week=1, now=NOW)
            empty = await cohort_report(uow, cohort=cohort, program=PROGRAM, week=None, now=NOW)

    assert {k.status for k in empty.kpis} == {Status.NO_DATA}, "no data is not red"
    assert current_week(cohort, NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.75, Status.GREEN),
        (0.7499, Status.AMBER),
        (0.6, Status.AMBER),
        (0.5999, Status.RED),
        (0.0, Status.RED),
        (None, Status.NO_DATA),
    ],
)
def test_higher_is_better_lights_switch_at_the_thresholds(
    value: float | None, expected: Status
) -> None:
    assert status_of(value, KpiThreshold(green=0.75, amber=0.6)) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0.5, Status.GREEN),
        (14.0, Status.GREEN),
        (14.01, Status.AMBER),
        (21.0, Status.AMBER),
        (21.5, Status.RED),
        (None, Status.NO_DATA),
    ],
)
def test_review_turnaround_is_green_when_short(days: float | None, expected: Status) -> None:
    threshold = PROGRAM.kpis.review_turnaround_days
    assert isinstance(threshold, LowerIsBetterThreshold)
    assert status_of(days, threshold) == expected


async def test_two_sessions_missed_in_a_row_put_someone_on_the_nudge_list(
    database_url: str,
) -> None:
    async with seeded(database_url) as seeder:
        await seeder.cohort("s", start=date(2026, 11, 2))
        await seeder.person("ivy", "jon")
        await seeder.log("s", "cohort.joined", berlin(2, 8), "ivy", "jon")
        for number, day in ((1, 4), (2, 11)):
            ref = f"session:{number}"
            await seeder.log("s", "session.started", berlin(day, 15), obj=ref)
            await seeder.log("s", "session.attended", berlin(day, 15), "jon", obj=ref)
        # Ivy's check-in a week later does not excuse the sessions she missed.
        await seeder.log("s", "checkin.prompted", berlin(9, 9), "ivy", obj="checkin_round:1")
        await seeder.log("s", "checkin.answered", berlin(9, 10), "ivy", obj="checkin_round:1")
        cohort = await seeder.get_cohort("s")
        async with reading(seeder) as uow:
            first = await cohort_report(uow, cohort=cohort, program=PROGRAM, week=1, now=NOW)
            second = await cohort_report(uow, cohort=cohort, program=PROGRAM, week=2, now=NOW)

    assert first.nudges == (), "one missed session is not yet a pattern"
    (ivy,) = second.nudges
    assert (ivy.name, ivy.reasons) == ("Ivy", ("missed the last 2 sessions",))
    assert ivy.last_checkin is not None
    assert [(s.number, s.attended, s.expected) for s in second.sessions] == [(None, 1, 2)]


async def test_someone_away_is_not_expected_at_a_session(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seeder.cohort("w", start=date(2026, 11, 2))
        await seeder.person("ivy", "jon")
        await seeder.log("w", "cohort.joined", berlin(2, 8), "ivy", "jon")
        await seeder.log("w", "person.away", berlin(9, 8), "jon", data={"until": "2026-11-11"})
        await seeder.log("w", "session.started", berlin(11, 15), obj="session:2")
        await seeder.log("w", "session.attended", berlin(11, 15), "ivy", obj="session:2")
        await seeder.log("w", "session.started", berlin(12, 15), obj="session:3")
        await seeder.log("w", "session.attended", berlin(12, 15), "ivy", obj="session:3")
        cohort = await seeder.get_cohort("w")
        async with reading(seeder) as uow:
            report = await cohort_report(uow, cohort=cohort, program=PROGRAM, week=2, now=NOW)

    assert [(s.attended, s.expected) for s in report.sessions] == [(1, 1), (1, 2)]
    assert report.kpi("attendance").value == pytest.approx(2 / 3)
    assert report.nudges == (), "Jon missed one session he was expected at"


async def test_the_card_shows_lights_trends_sessions_ratings_and_nudges(database_url: str) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
        report = await report_a(seeder, 2)

    text = report_message(report, time_zone="Europe/Berlin").text.splitlines()

    assert text[0] == "KPIs of Cohort a: week 2 (09 Nov to 15 Nov)"
    assert "🔴 Check-in participation (red): 40% ▼ from 60%; target ≥ 75%" in text
    assert "🟠 Review turnaround (amber): 16.0 days; target ≤ 14.0 days" in text
    assert "🟢 Skill improvement (green): +17%; target ≥ +15%" in text
    assert "Sessions: #2 50% (2/4)" in text
    assert "Ratings: 1★ 0 · 2★ 0 · 3★ 2 · 4★ 1 · 5★ 0" in text
    assert text[-3:] == [
        "Needs a nudge (2):",
        "• Dee: missed the last 2 check-ins; last check-in never",
        "• Eve: inactive since 10 Nov; missed the last 2 check-ins; last check-in never",
    ]
