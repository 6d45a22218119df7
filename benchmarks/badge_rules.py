"""One badge pass over a cohort's 12-week activity log: `flows.recognition.awards.evaluate`.

A cohort of `--people` participants is written straight into the database with the log
a 12-week program leaves (seeded random, so every run is the same): weekly check-ins
answered by about 80% of people, reviews given and rated, one session a week hosted by
one of four facilitators, completions at the end, and the many other verbs the rules do
not read (prompts, nudges, flow steps, votes, attendance), which share the table and its
indexes. Then the periodic pass runs as the scheduler runs it, in one transaction:

- first pass: every badge earned so far is awarded, logged and announced (one channel
  post, one DM per person, all queued in the outbox);
- steady pass: nothing new, the cost the check pays every `check_every_minutes`
  (the median of `--runs` passes).

Wall time is time.perf_counter around the pass; peak memory is tracemalloc's peak
during a steady pass (Python allocations) and the process's peak resident set.

    .venv/bin/python -m benchmarks.badge_rules [--people 200] [--weeks 12] [--runs 5]
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
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    on_each_database,
    report,
    reset_database,
    rss_mib,
)
from bot.app import CohortBot
from bot.runtime.clock import ManualClock
from bot.runtime.effects import Effects
from flows.recognition.awards import NewAward, evaluate
from storage.models import Activity, Cohort, CohortChannel, Identity, Membership, Person, Workspace
from storage.uow import unit_of_work

NAME = "badge_rules"
START = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # a Monday, 12 weeks before the pass
CHUNK = 5000
OTHER_VERBS = (
    "checkin.prompted",
    "checkin.nudged",
    "flow.checkin.pilot.completed",
    "session.attended",
    "poll.voted",
    "pulse.answered",
    "matching.paired",
    "commitment.made",
    "commitment.done",
    "participant.reactivated",
)
"""Verbs no badge rule reads: about ten per person and week, as the other flows log them."""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    add_common_arguments(parser)
    return parser.parse_args(argv)


def activity_log(
    cohort_id: int, people: list[int], weeks: int, seed: int = 11
) -> list[dict[str, Any]]:
    """The rows a `weeks`-week program of `people` leaves in the activity log."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []

    def log(verb: str, at: datetime, person: int | None, **extra: Any) -> None:
        rows.append(
            {
                "at": at,
                "verb": verb,
                "person_id": person,
                "cohort_id": cohort_id,
                "object": extra.pop("object", None),
                "data": extra,
            }
        )

    facilitators = people[:4]
    assignment = 0
    for week in range(weeks):
        monday = START + timedelta(weeks=week)
        round_ref = f"checkin_round:{week + 1}"
        log(
            "session.started",
            monday + timedelta(days=2, hours=7),
            facilitators[week % 4],
            object=f"session:{week + 1}",
            number=week + 1,
        )
        for person in people:
            if rng.random() < 0.8:
                log(
                    "checkin.answered",
                    monday + timedelta(hours=rng.randint(1, 40)),
                    person,
                    object=round_ref,
                    number=week + 1,
                    late_after_nudge=False,
                )
            for _ in range(10):
                log(
                    rng.choice(OTHER_VERBS),
                    monday + timedelta(minutes=rng.randint(0, 10079)),
                    person,
                )
            if week % 3 == 1:  # reviews come in waves, one every three weeks
                author = rng.choice(people)
                assignment += 1
                at = monday + timedelta(days=rng.randint(1, 6))
                log(
                    "review.given",
                    at,
                    person,
                    object=f"review_assignment:{assignment}",
                    assignment_id=assignment,
                    author_id=author,
                    turnaround_hours=30,
                    on_time=True,
                    scores={"message": 3, "structure": 4},
                )
                if rng.random() < 0.8:
                    log(
                        "review.rated",
                        at + timedelta(days=1),
                        author,
                        object=f"review_assignment:{assignment}",
                        assignment_id=assignment,
                        reviewer_id=person,
                        usefulness=rng.choice((3, 4, 5, 5)),
                    )
    end = START + timedelta(weeks=weeks)
    for person in people:
        if rng.random() < 0.75:
            log("program.completed", end, person)
    return rows


async def seed(bot: CohortBot, *, people: int, weeks: int) -> tuple[int, int]:
    """A cohort with its channel, people with local identities and memberships, and the log."""
    async with unit_of_work(bot.sessions) as uow:
        session = uow.session
        workspace_id = await session.scalar(
            select(Workspace.id).where(Workspace.platform == "local")
        )
        first = int(await session.scalar(select(func.max(Person.id))) or 0) + 1
        cohort_id = int(await session.scalar(select(func.max(Cohort.id))) or 0) + 1
        await session.execute(
            insert(Cohort),
            [
                {
                    "id": cohort_id,
                    "key": "bench",
                    "name": "Bench cohort",
                    "program": "pilot",
                    "time_zone": "Europe/Berlin",
                    "status": "active",
                    "start_date": START.date(),
                    "created_at": START,
                }
            ],
        )
        await session.execute(
            insert(CohortChannel),
            [{"cohort_id": cohort_id, "platform": "local", "channel_id": "bench"}],
        )
        ids = list(range(first, first + people))
        await session.execute(
            insert(Person),
            [
                {
                    "id": p,
                    "display_name": f"Person {p}",
                    "time_zone": "Europe/Berlin",
                    "status": "active",
                    "profile": {},
                    "created_at": START,
                }
                for p in ids
            ],
        )
        await session.execute(
            insert(Identity),
            [
                {
                    "person_id": p,
                    "workspace_id": workspace_id,
                    "platform_user_id": f"bench-{p}",
                    "display_name": f"Person {p}",
                    "reachable": True,
                }
                for p in ids
            ],
        )
        await session.execute(
            insert(Membership),
            [
                {
                    "cohort_id": cohort_id,
                    "person_id": p,
                    "role": "participant",
                    "status": "active",
                    "joined_at": START,
                    "missed_in_a_row": 0,
                }
                for p in ids
            ],
        )
        rows = activity_log(cohort_id, ids, weeks)
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(Activity), rows[start : start + CHUNK])
    return cohort_id, len(rows)


async def one_pass(bot: CohortBot, cohort_id: int, source: str) -> list[NewAward]:
    async with unit_of_work(bot.sessions) as uow:
        cohort = await uow.cohorts.get(cohort_id)
        assert cohort is not None
        effects = Effects(uow, source=source, now=bot.clock.now(), platforms=bot.platforms)
        return await evaluate(effects, cohort, bot.config.programs[cohort.program])


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    bot = CohortBot(bench_config(url), clock=ManualClock(START + timedelta(weeks=args.weeks)))
    try:
        await bot.prepare()
        cohort_id, logged = await seed(bot, people=args.people, weeks=args.weeks)

        began = time.perf_counter()
        awarded = await one_pass(bot, cohort_id, "bench:first")
        first_ms = (time.perf_counter() - began) * 1000

        steady: list[float] = []
        for run in range(args.runs):
            began = time.perf_counter()
            again = await one_pass(bot, cohort_id, f"bench:steady:{run}")
            steady.append((time.perf_counter() - began) * 1000)
            if again:
                print(f"warning: a steady pass awarded {len(again)} badges again")
        tracemalloc.start()
        await one_pass(bot, cohort_id, "bench:traced")
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await bot.stop()
    _rss, rss_peak = rss_mib()
    print(f"{label}: {logged:,} activity rows, {len(awarded)} badges awarded", flush=True)
    size = f"{args.people} people, {args.weeks} weeks"
    return [
        Figure(NAME, label, f"activity rows seeded ({size})", logged, "rows"),
        Figure(NAME, label, "first pass: badges awarded and announced", len(awarded), "badges"),
        Figure(NAME, label, "first pass: wall time", first_ms, "ms"),
        Figure(
            NAME, label, "steady pass (nothing new): median wall", statistics.median(steady), "ms"
        ),
        Figure(NAME, label, "steady pass: peak Python allocations", traced_peak / 2**20, "MiB"),
        Figure(NAME, label, "peak resident memory (process)", rss_peak, "MiB"),
    ]


async def run(args: argparse.Namespace) -> list[Figure]:
    return await on_each_database(measure, args, NAME)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
