"""A whole program simulated: `cohortbot simulate` for 200 people over 12 weeks.

Everything runs through the real router, flows, scheduler and outbox on the local
platform, on SQLite (the embedded default) in a temporary folder. Figures: wall time of
the whole run, simulated actions and clock steps per second of wall time, the peak
resident set size, and the size of the database left behind.

    .venv/bin/python -m benchmarks.simulation [--participants 200] [--weeks 12] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Figure, add_common_arguments, report, rss_mib
from bot.cli.simulation.command import database_url, simulate
from bot.cli.simulation.world import Settings
from bot.config import load_config

NAME = "simulation"


def run(settings: Settings) -> list[Figure]:
    label = f"{settings.participants} people x {settings.weeks} weeks"
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "simulation.db"
        began = time.perf_counter()
        outcome = asyncio.run(
            simulate(load_config(ROOT / "app.yaml"), settings, db_url=database_url(db))
        )
        seconds = time.perf_counter() - began
        size = db.stat().st_size / 2**20
    _current, peak = rss_mib()
    events = sum(outcome.activity.values())
    return [
        Figure(NAME, "sqlite", f"{label}: wall time", seconds, "s"),
        Figure(NAME, "sqlite", f"{label}: actions by simulated people", outcome.actions, "actions"),
        Figure(NAME, "sqlite", f"{label}: activity log rows", events, "rows"),
        Figure(NAME, "sqlite", f"{label}: clock steps per second", outcome.steps / seconds, "1/s"),
        Figure(NAME, "sqlite", f"{label}: peak RSS", peak, "MiB"),
        Figure(NAME, "sqlite", f"{label}: database left behind", size, "MiB"),
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.simulation", description=__doc__)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    settings = Settings(participants=args.participants, weeks=args.weeks, seed=args.seed)
    report(run(settings), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
