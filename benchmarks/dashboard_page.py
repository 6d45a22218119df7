"""The dashboard page of a 200-person program after 12 weeks: KPIs, weekly series, charts.

The activity of `benchmarks.kpi_report` (10 cohorts of 20, 12 weeks) is seeded, then the
page is fetched over HTTP with the operator token, as a browser would: one cohort's page
and the whole program's. Each figure is the median of several requests; the page size
and the peak Python allocations of one program page are reported too.

    .venv/bin/python -m benchmarks.dashboard_page [--cohorts 10] [--size 20] [--weeks 12]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tracemalloc

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    on_each_database,
    report,
    reset_database,
    rss_mib,
)
from benchmarks.kpi_report import _at, seed, timed
from bot.web.dashboard import Dashboard
from bot.web.links import DashboardLinks
from flows.reports.dashboard import page_builder
from storage import migrate
from storage.db import create_engine, session_factory

NAME = "dashboard_page"
TOKEN = "benchmark-operator-token"


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    engine = create_engine(url)
    config = bench_config(url)
    now = _at(args.weeks - 1, 6, 12)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        rows = await seed(sessions, cohorts=args.cohorts, size=args.size, weeks=args.weeks)
        app = web.Application()
        Dashboard(
            sessions=sessions,
            links=DashboardLinks(lambda: "unused: the operator token is used"),
            operator_token=TOKEN,
            build=page_builder(config),
            now=lambda: now,
        ).add_routes(app)
        client = TestClient(TestServer(app, host="127.0.0.1", port=0))
        await client.start_server()
        sizes: dict[str, int] = {}
        try:

            async def fetch(query: dict[str, str]) -> None:
                response = await client.get(
                    "/dashboard", params=query, headers={"Authorization": f"Bearer {TOKEN}"}
                )
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"the dashboard answered {response.status}")
                sizes[next(iter(query.values()))] = len(body)

            people = args.cohorts * args.size
            figures = [
                Figure(NAME, label, "activity rows seeded", rows, "rows"),
                Figure(
                    NAME,
                    label,
                    "cohort page over HTTP (median)",
                    await timed(lambda: fetch({"cohort": "bench-0"})),
                    "ms",
                ),
                Figure(
                    NAME,
                    label,
                    f"program page, {people} people (median)",
                    await timed(lambda: fetch({"program": "pilot"})),
                    "ms",
                ),
                Figure(NAME, label, "program page size", sizes["pilot"] / 1024, "KiB"),
            ]
            tracemalloc.start()
            await fetch({"program": "pilot"})
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await client.close()
        figures.append(
            Figure(NAME, label, "program page peak Python allocations", peak / 2**20, "MiB")
        )
        figures.append(Figure(NAME, label, "process peak RSS", rss_mib()[1], "MiB"))
        return figures
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> list[Figure]:
    return await on_each_database(measure, args, NAME)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.dashboard_page", description=__doc__)
    parser.add_argument("--cohorts", type=int, default=10)
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=12)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
