"""A weekly check-in round for many cohorts: openers, then every person's prompt in the outbox.

`--cohorts` cohorts of `--size` participants (people spread over Tokyo, Kolkata, Berlin and
New York) are written straight into the database. The cohort installers set each cohort's
round opener; the clock is set to the opener time (Sunday 19:00 UTC, Monday 09:00 in
UTC+14) and the scheduler runs every opener, each in its own transaction (phase "open":
a round row, one prompt, nudge and close timer per person). Then the clock moves to Monday
15:00 UTC, when every local 09:00 has passed, and the scheduler runs every prompt (phase
"prompt": a check-in row, a flow run and a DM queued in the outbox per person). Nothing is
delivered: the figure is how fast prompts are queued.

    .venv/bin/python -m benchmarks.checkin_round [--cohorts 1000] [--size 20] [--trace]
        [--postgres URL [--postgres-only]]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

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
from storage.models import (
    CheckinAnswer,
    Cohort,
    CohortChannel,
    Identity,
    Membership,
    OutboxMessage,
    Person,
    Workspace,
)
from storage.uow import unit_of_work

NAME = "checkin_round"
ZONES = ("Asia/Tokyo", "Asia/Kolkata", "Europe/Berlin", "America/New_York")
OPENER_AT = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
"""Monday 09:00 in UTC+14, when the week's round openers fire."""
PROMPTS_DUE = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
"""Monday 15:00 UTC: 09:00 has passed in every zone above."""
CHUNK = 5000


async def seed(bot: CohortBot, *, cohorts: int, size: int, now: datetime) -> None:
    """Cohorts, channels, people with local identities, and participant memberships."""
    async with unit_of_work(bot.sessions) as uow:
        workspace_id = await uow.session.scalar(
            select(Workspace.id).where(Workspace.platform == "local")
        )
        first_person = int(await uow.session.scalar(select(func.max(Person.id))) or 0) + 1
        first_cohort = int(await uow.session.scalar(select(func.max(Cohort.id))) or 0) + 1
        await uow.session.execute(
            insert(Cohort),
            [
                {
                    "id": first_cohort + c,
                    "key": f"bench-{c}",
                    "name": f"Bench cohort {c}",
                    "program": "pilot",
                    "time_zone": "Europe/Berlin",
                    "status": "active",
                    "start_date": None,
                    "created_at": now,
                }
                for c in range(cohorts)
            ],
        )
        await uow.session.execute(
            insert(CohortChannel),
            [
                {"cohort_id": first_cohort + c, "platform": "local", "channel_id": f"bench-{c}"}
                for c in range(cohorts)
            ],
        )
        people = cohorts * size
        for start in range(0, people, CHUNK):
            block = range(start, min(people, start + CHUNK))
            await uow.session.execute(
                insert(Person),
                [
                    {
                        "id": first_person + p,
                        "display_name": f"Person {p}",
                        "time_zone": ZONES[p % len(ZONES)],
                        "status": "active",
                        "profile": {},
                        "created_at": now,
                    }
                    for p in block
                ],
            )
            await uow.session.execute(
                insert(Identity),
                [
                    {
                        "person_id": first_person + p,
                        "workspace_id": workspace_id,
                        "platform_user_id": f"bench-{p}",
                        "display_name": f"Person {p}",
                        "reachable": True,
                    }
                    for p in block
                ],
            )
            await uow.session.execute(
                insert(Membership),
                [
                    {
                        "cohort_id": first_cohort + p // size,
                        "person_id": first_person + p,
                        "role": "participant",
                        "status": "active",
                        "joined_at": now,
                        "missed_in_a_row": 0,
                    }
                    for p in block
                ],
            )


async def count(bot: CohortBot, model: type[CheckinAnswer] | type[OutboxMessage]) -> int:
    async with unit_of_work(bot.sessions) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    clock = ManualClock(OPENER_AT - timedelta(hours=1))
    bot = CohortBot(bench_config(url), clock=clock, node_id="bench")
    try:
        await bot.prepare()
        await seed(bot, cohorts=args.cohorts, size=args.size, now=clock.now())
        async with unit_of_work(bot.sessions) as uow:
            await bot.cohort_setup.install(uow, bot.config, now=clock.now())
        queued_before = await count(bot, OutboxMessage)

        if args.trace:
            tracemalloc.start()
        clock.set(OPENER_AT)
        began = time.perf_counter()
        opened = await bot.scheduler.tick()
        open_seconds = time.perf_counter() - began

        clock.set(PROMPTS_DUE)
        began = time.perf_counter()
        prompted = await bot.scheduler.tick()
        prompt_seconds = time.perf_counter() - began
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        rows = await count(bot, CheckinAnswer)
        queued = await count(bot, OutboxMessage) - queued_before
    finally:
        await bot.stop()
    people = args.cohorts * args.size
    if rows != people or queued < people:
        print(f"warning: {rows} check-in rows and {queued} DMs queued for {people} people")
    _rss, rss_peak = rss_mib()
    total = open_seconds + prompt_seconds
    figures = [
        Figure(NAME, label, f"open {opened:,} rounds: wall time", open_seconds, "s"),
        Figure(NAME, label, f"prompt {people:,} people: wall time", prompt_seconds, "s"),
        Figure(NAME, label, "prompt timers run (one per cohort and instant)", prompted, "tasks"),
        Figure(NAME, label, "prompts queued in the outbox", queued, "messages"),
        Figure(NAME, label, "prompts queued per second", queued / prompt_seconds, "msg/s"),
        Figure(NAME, label, "people per second (whole round)", people / total, "people/s"),
        Figure(NAME, label, "peak resident memory (process)", rss_peak, "MiB"),
    ]
    if args.trace:
        peak = traced_peak / 2**20
        figures.append(Figure(NAME, label, "peak Python allocations (tracemalloc)", peak, "MiB"))
    return figures


async def run(args: argparse.Namespace) -> list[Figure]:
    return await on_each_database(
        measure, args, NAME, skip=("sqlite",) if args.postgres_only else ()
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.checkin_round",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cohorts", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also measure peak Python allocations with tracemalloc (slows the run down)",
    )
    parser.add_argument("--postgres-only", action="store_true", help="skip the SQLite run")
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
