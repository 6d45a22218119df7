"""Shared pieces of the benchmarks: databases, the shipped config, figures and their output.

Every benchmark returns a list of `Figure`s; run alone it prints them, and with `--json`
it also writes them to a file, which is how `python -m benchmarks` builds its summary.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import AppConfig, parse_config

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    """One measured number: which benchmark, on which database, what, how much."""

    benchmark: str
    database: str
    name: str
    value: float
    unit: str


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL", ""),
        help="postgresql+asyncpg:// URL of a disposable database whose public schema is "
        "dropped and recreated (default: TEST_POSTGRES_URL; unset skips PostgreSQL)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")


def bench_config(database_url: str) -> AppConfig:
    """The shipped app.yaml on the given database (local playground on, Slack off)."""
    text_ = (ROOT / "app.yaml").read_text(encoding="utf-8")
    return parse_config(text_, environ={"DATABASE_URL": database_url})


def databases(folder: Path, postgres: str, name: str = "bench") -> list[tuple[str, str]]:
    """(label, URL) for a fresh SQLite file in `folder`, and PostgreSQL when given."""
    found = [("sqlite", f"sqlite+aiosqlite:///{folder / f'{name}.db'}")]
    if postgres:
        found.append(("postgresql", postgres))
    else:
        print("note: no --postgres URL and TEST_POSTGRES_URL is unset: PostgreSQL skipped")
    return found


Measure = Callable[[str, str, argparse.Namespace], Awaitable[list[Figure]]]
"""Measures one database: its label, its URL, the parsed arguments."""


async def on_each_database(
    measure: Measure, args: argparse.Namespace, name: str = "bench", *, skip: Iterable[str] = ()
) -> list[Figure]:
    """Run `measure` on a fresh SQLite file and, when `--postgres` is given, on PostgreSQL."""
    figures: list[Figure] = []
    skipped = set(skip)
    with tempfile.TemporaryDirectory() as folder:
        for label, url in databases(Path(folder), args.postgres, name):
            if label not in skipped:
                figures += await measure(label, url, args)
    return figures


def sqlite_files(url: str) -> list[Path]:
    """The database file of a SQLite URL and its write-ahead log and shared-memory files."""
    path = url.partition(":///")[2]
    return [Path(path + suffix) for suffix in ("", "-wal", "-shm")]


async def reset_database(url: str) -> None:
    """An empty database: SQLite files removed, PostgreSQL's public schema recreated."""
    if url.startswith("sqlite"):
        for file in sqlite_files(url):
            file.unlink(missing_ok=True)
        return
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    if fraction == 0.5:
        return statistics.median(values)
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB."""
    fields: dict[str, float] = {}
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(rest.split()[0]) / 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return fields.get("VmRSS", peak), fields.get("VmHWM", peak)


def print_figures(figures: list[Figure]) -> None:
    print(f"{'database':<12}{'figure':<52}{'value':>12}  unit")
    for figure in figures:
        print(f"{figure.database:<12}{figure.name:<52}{figure.value:>12,.1f}  {figure.unit}")


def write_json(figures: list[Figure], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps([asdict(f) for f in figures]), encoding="utf-8")


def report(figures: list[Figure], json_path: Path | None) -> None:
    """Print the figures and, when asked, write them for `python -m benchmarks`."""
    print_figures(figures)
    write_json(figures, json_path)


def read_json(path: Path) -> list[Figure]:
    if not path.exists() or not path.read_text(encoding="utf-8"):
        return []
    return [Figure(**item) for item in json.loads(path.read_text(encoding="utf-8"))]
