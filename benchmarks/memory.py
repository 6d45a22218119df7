"""Resident memory of a running bot on a database of 20,000 people in 1,000 cohorts.

The rows (a workspace, people, their playground identities, cohorts with a channel each,
one participant membership per person and a facilitator per cohort) are bulk-inserted
with SQLAlchemy Core after migrating. Then a fresh process, so that the bulk load does
not count, starts a CohortBot on that database (`prepare()`, scheduler and sender
running) and processes waves of events from random people: `/cohort join <another
cohort>`, the time-zone answer by DM, `/cohort cohorts` (which lists all 1,000 cohorts)
and `/cohort help`, waiting each time until the replies are delivered.

- RSS is VmRSS from /proc/self/status (after a gc); peak is VmHWM.
- "imports only" is the interpreter plus every library the bot loads; the bot's own
  cost is the difference to "after prepare". Growth during the events is what the
  working set of queries, the ORM identity maps and the delivered replies add: note
  the playground (always on in app.yaml) keeps every delivered message in memory.
- database size: SQLite file plus its WAL; pg_database_size on PostgreSQL.

    .venv/bin/python -m benchmarks.memory [--people 20000] [--cohorts 1000] [--events 400]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    databases,
    read_json,
    report,
    reset_database,
    rss_mib,
    sqlite_files,
    write_json,
)
from bot.app import CohortBot
from bot.model.events import Actor, CommandInvoked, InboundEvent, MessageReceived
from storage import migrate
from storage.db import create_engine
from storage.models import Cohort, CohortChannel, Identity, Membership, Person, Workspace
from storage.uow import unit_of_work

NAME = "memory"
CHUNK = 5000
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo")


def user_id(n: int) -> str:
    return f"m{n:05d}"


def cohort_key(n: int) -> str:
    return f"c{n:04d}"


async def load(url: str, *, people: int, cohorts: int) -> None:
    """Migrate, then bulk-insert people, identities, cohorts, channels and memberships."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    per_cohort = max(1, people // cohorts)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            workspace = await connection.scalar(
                insert(Workspace)
                .values(platform="local", tenant_id="local", name="Benchmark")
                .returning(Workspace.id)
            )
            cohort_rows = [
                {
                    "key": cohort_key(n),
                    "name": f"Cohort {n}",
                    "program": "pilot",
                    "time_zone": ZONES[n % len(ZONES)],
                    "status": "active",
                    "created_at": now,
                }
                for n in range(cohorts)
            ]
            cohort_ids = await returning_ids(connection, Cohort, cohort_rows)
            await connection.execute(
                insert(CohortChannel),
                [
                    {"cohort_id": c, "platform": "local", "channel_id": f"cohort-{n:04d}"}
                    for n, c in enumerate(cohort_ids)
                ],
            )
            for start in range(0, people, CHUNK):
                numbers = range(start, min(start + CHUNK, people))
                person_ids = await returning_ids(
                    connection,
                    Person,
                    [
                        {
                            "display_name": f"Member {n}",
                            "email": f"member{n}@example.com",
                            "time_zone": ZONES[n % len(ZONES)],
                            "status": "active",
                            "created_at": now,
                        }
                        for n in numbers
                    ],
                )
                identities, memberships = [], []
                for n, person_id in zip(numbers, person_ids, strict=True):
                    identities.append(
                        {
                            "person_id": person_id,
                            "workspace_id": workspace,
                            "platform_user_id": user_id(n),
                            "display_name": f"Member {n}",
                            "email": f"member{n}@example.com",
                            "time_zone": ZONES[n % len(ZONES)],
                            "reachable": True,
                        }
                    )
                    cohort = cohort_ids[min(n // per_cohort, cohorts - 1)]
                    roles = ["participant"] + (["facilitator"] if n % per_cohort == 0 else [])
                    memberships += [
                        {
                            "cohort_id": cohort,
                            "person_id": person_id,
                            "role": role,
                            "status": "active",
                            "joined_at": now,
                        }
                        for role in roles
                    ]
                await connection.execute(insert(Identity), identities)
                await connection.execute(insert(Membership), memberships)
    finally:
        await engine.dispose()


async def returning_ids(
    connection: AsyncConnection, model: type[Person] | type[Cohort], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert many rows in one statement and return their ids in the rows' order."""
    result = await connection.scalars(
        insert(model).returning(model.id, sort_by_parameter_order=True), rows
    )
    return list(result)


def event_waves(args: argparse.Namespace) -> list[list[InboundEvent]]:
    """Four waves over random people: join another cohort, answer, list cohorts, help."""
    rng = random.Random(args.seed)
    chosen = rng.sample(range(args.people), max(1, args.events // 4))
    per_cohort = max(1, args.people // args.cohorts)
    waves: list[list[InboundEvent]] = [[], [], [], []]
    for n in chosen:
        actor = Actor(platform="local", workspace="local", user_id=user_id(n))
        own = min(n // per_cohort, args.cohorts - 1)
        other = (own + rng.randrange(1, args.cohorts)) % args.cohorts if args.cohorts > 1 else own
        base: dict[str, Any] = {"actor": actor, "is_direct": True}
        waves[0].append(CommandInvoked(event_id=f"j-{n}", text=f"join {cohort_key(other)}", **base))
        waves[1].append(MessageReceived(event_id=f"a-{n}", text="Europe/Lisbon", **base))
        waves[2].append(CommandInvoked(event_id=f"c-{n}", text="cohorts", **base))
        waves[3].append(CommandInvoked(event_id=f"h-{n}", text="help", **base))
    return waves


async def delivered(bot: CohortBot) -> None:
    """Wait (up to two minutes) until the running sender has emptied the outbox."""
    try:
        async with asyncio.timeout(120):
            while True:
                async with unit_of_work(bot.sessions) as uow:
                    if not (await uow.outbox.depth()).get("pending"):
                        return
                await asyncio.sleep(0.2)
    except TimeoutError:
        print("warning: the outbox still has pending messages")


async def database_mib(bot: CohortBot, url: str) -> float:
    if url.startswith("sqlite"):
        return sum(f.stat().st_size for f in sqlite_files(url) if f.exists()) / 2**20
    async with bot.engine.connect() as connection:
        size = await connection.scalar(text("SELECT pg_database_size(current_database())"))
    return float(size or 0) / 2**20


def settled_rss() -> float:
    gc.collect()
    return rss_mib()[0]


async def measure(args: argparse.Namespace) -> list[Figure]:
    """Runs in its own process: start the bot on the loaded database and watch RSS."""
    url, label = args.measure, args.label
    imports = settled_rss()
    bot = CohortBot(bench_config(url))
    await bot.prepare()
    bot.start_background()
    try:
        prepared = settled_rss()
        waves = event_waves(args)
        began = time.perf_counter()
        for wave in waves:
            await asyncio.gather(*(bot.accept(event) for event in wave))
            await bot.dispatcher.drain()
        seconds = time.perf_counter() - began
        await delivered(bot)
        after = settled_rss()
        size = await database_mib(bot, url)
    finally:
        await bot.stop()
    events = sum(len(wave) for wave in waves)
    return [
        Figure(NAME, label, "RSS, imports only", imports, "MiB"),
        Figure(NAME, label, "RSS after prepare() and start", prepared, "MiB"),
        Figure(NAME, label, f"RSS after {events} events delivered", after, "MiB"),
        Figure(NAME, label, f"  growth during the {events} events", after - prepared, "MiB"),
        Figure(NAME, label, "peak RSS (VmHWM)", rss_mib()[1], "MiB"),
        Figure(NAME, label, "events/s on this database (4 waves)", events / seconds, "events/s"),
        Figure(NAME, label, "database size", size, "MiB"),
    ]


async def run(args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        for label, url in databases(Path(folder), args.postgres):
            await reset_database(url)
            began = time.perf_counter()
            await load(url, people=args.people, cohorts=args.cohorts)
            loaded = time.perf_counter() - began
            print(
                f"{label}: {args.people} people in {args.cohorts} cohorts loaded in {loaded:.1f} s"
            )
            child_json = Path(folder) / f"{label}.json"
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.memory",
                *("--measure", url, "--label", label),
                *("--people", str(args.people), "--cohorts", str(args.cohorts)),
                *("--events", str(args.events), "--seed", str(args.seed)),
                *("--json", str(child_json)),
            )
            if await child.wait() != 0:
                print(f"warning: the {label} measurement failed (exit {child.returncode})")
            figures.append(Figure(NAME, label, "bulk load (not the bot)", loaded, "s"))
            figures += read_json(child_json)
    return figures


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--cohorts", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=400, help="in four waves (default 400)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    if args.measure:
        write_json(asyncio.run(measure(args)), args.json)
        return
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
