"""The KPI report of a 200-person program after 12 weeks of activity.

`--cohorts` cohorts of `--size` participants start on the same Monday; twelve weeks of
activity are written straight into the log, shaped like a real pilot: weekly check-ins
(80% answered, the rest missed and nudged), a weekly session (85% attend, 60% rate it),
pairs every two weeks asked "did you meet?", commitments, reviews and kudos, pre- and
post-assessments, a few people going inactive, plus the bookkeeping verbs the flows log
that no KPI reads. Then the reports are timed: one cohort's week, the program's week
(with the week before, for trends) and the program so far.

    .venv/bin/python -m benchmarks.kpi_report [--cohorts 10] [--size 20] [--weeks 12]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    on_each_database,
    report,
    reset_database,
    rss_mib,
)
from flows.reports.kpis import cohort_report, program_report
from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Activity, Cohort, Person
from storage.uow import unit_of_work

NAME = "kpi_report"
START = date(2026, 9, 7)  # a Monday
CHUNK = 5000
RUNS = 5


def _at(week: int, day: int, hour: int) -> datetime:
    return datetime(START.year, START.month, START.day, hour, tzinfo=UTC) + timedelta(
        weeks=week, days=day
    )


def cohort_rows(
    cohort_id: int, people: list[int], weeks: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Every activity row of one cohort's program, oldest first."""
    rows: list[dict[str, Any]] = []

    def add(
        verb: str, at: datetime, person: int | None, obj: str | None = None, **data: Any
    ) -> None:
        rows.append(
            {
                "verb": verb,
                "at": at,
                "person_id": person,
                "cohort_id": cohort_id,
                "object": obj,
                "data": data,
            }
        )

    skills = {"feedback": 0, "presenting": 0, "facilitation": 0}
    inactive: set[int] = set()
    for person in people:
        add("cohort.invited", _at(0, 0, 8), person)
        add("cohort.joined", _at(0, 0, 9), person)
        if rng.random() < 0.9:
            add("onboarding.completed", _at(0, 0, 10), person)
            add("assessment.pre", _at(0, 0, 10), person, **{s: rng.randint(1, 4) for s in skills})
    for week in range(weeks):
        round_ref = f"checkin_round:{cohort_id * 100 + week}"
        session_ref = f"session:{cohort_id * 100 + week}"
        add("checkin.round_opened", _at(week, 0, 8), None, round_ref)
        add("session.started", _at(week, 2, 14), people[0], session_ref, number=week + 1)
        for person in people:
            if person in inactive:
                continue
            add("checkin.prompted", _at(week, 0, 9), person, round_ref)
            if rng.random() < 0.8:
                add("checkin.answered", _at(week, 0, 12), person, round_ref)
            else:
                add("checkin.nudged", _at(week, 1, 9), person, round_ref)
                add("checkin.missed", _at(week, 2, 9), person, round_ref)
                add("prompt.unanswered", _at(week, 2, 9), person, prompt="checkin")
            if rng.random() < 0.85:
                add("session.attended", _at(week, 2, 14), person, session_ref)
                if rng.random() < 0.6:
                    add(
                        "session.rated",
                        _at(week, 2, 15),
                        person,
                        session_ref,
                        rating=rng.randint(2, 5),
                    )
                add("commitment.made", _at(week, 2, 15), person, session_ref)
            if week and rng.random() < 0.7:
                verb = "commitment.kept" if rng.random() < 0.7 else "commitment.not_kept"
                add(verb, _at(week, 2, 13), person)
            if week % 2 == 0:
                group = f"match_group:{cohort_id * 1000 + week * 10 + people.index(person) // 2}"
                add("pairing.matched", _at(week, 0, 10), person, group)
                add("pairing.meet_asked", _at(week, 3, 10), person, group)
                if rng.random() < 0.7:
                    add("pairing.met", _at(week, 3, 12), person, group, met=rng.random() < 0.85)
            if rng.random() < 0.15:
                add(
                    "review.given",
                    _at(week, 4, 10),
                    person,
                    f"review:{rng.randint(1, 10_000)}",
                    author_id=rng.choice(people),
                    turnaround_hours=rng.uniform(6, 400),
                    on_time=rng.random() < 0.8,
                )
            if rng.random() < 0.2:
                add("kudos.given", _at(week, 4, 11), person)
            if week == 5 and rng.random() < 0.05:
                add("participant.inactive", _at(week, 2, 10), person)
                inactive.add(person)
    for person in people:
        if rng.random() < 0.8:
            add(
                "assessment.post",
                _at(weeks - 1, 4, 16),
                person,
                **{s: rng.randint(2, 5) for s in skills},
            )
    return rows


async def seed(sessions: SessionFactory, *, cohorts: int, size: int, weeks: int) -> int:
    rng = random.Random(7)
    written = 0
    for number in range(cohorts):
        async with unit_of_work(sessions) as uow:
            cohort = Cohort(
                key=f"bench-{number}",
                name=f"Bench cohort {number}",
                program="pilot",
                time_zone="UTC",
                start_date=START,
                created_at=_at(0, 0, 0),
            )
            uow.session.add(cohort)
            people = [
                Person(display_name=f"Person {number}-{i}", created_at=_at(0, 0, 0))
                for i in range(size)
            ]
            uow.session.add_all(people)
            await uow.session.flush()
            rows = cohort_rows(cohort.id, [p.id for p in people], weeks, rng)
            for first in range(0, len(rows), CHUNK):
                await uow.session.execute(insert(Activity), rows[first : first + CHUNK])
            written += len(rows)
    return written


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    """The median of several runs, in milliseconds."""
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    engine = create_engine(url)
    program = bench_config(url).programs["pilot"]
    now = _at(args.weeks - 1, 6, 12)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        began = time.perf_counter()
        rows = await seed(sessions, cohorts=args.cohorts, size=args.size, weeks=args.weeks)
        seeded_s = time.perf_counter() - began

        async def one_cohort() -> None:
            async with unit_of_work(sessions) as uow:
                cohort = await uow.cohorts.by_key("bench-0")
                assert cohort is not None
                await cohort_report(uow, cohort=cohort, program=program, week=args.weeks, now=now)

        async def program_week() -> None:
            async with unit_of_work(sessions) as uow:
                await program_report(
                    uow, program_key="pilot", program=program, week=args.weeks, now=now
                )

        async def program_so_far() -> None:
            async with unit_of_work(sessions) as uow:
                await program_report(uow, program_key="pilot", program=program, week=None, now=now)

        figures = [
            Figure(NAME, label, "activity rows seeded", rows, "rows"),
            Figure(NAME, label, "seeding time", seeded_s, "s"),
            Figure(
                NAME,
                label,
                "cohort report, one week + trend (median)",
                await timed(one_cohort),
                "ms",
            ),
            Figure(
                NAME,
                label,
                "program report, one week + trend (median)",
                await timed(program_week),
                "ms",
            ),
            Figure(
                NAME, label, "program report, so far (median)", await timed(program_so_far), "ms"
            ),
        ]
        tracemalloc.start()
        await program_week()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures.append(
            Figure(NAME, label, "program report peak Python allocations", peak / 2**20, "MiB")
        )
        figures.append(Figure(NAME, label, "process peak RSS", rss_mib()[1], "MiB"))
        return figures
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> list[Figure]:
    return await on_each_database(measure, args, NAME)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.kpi_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cohorts", type=int, default=10)
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=12)
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
