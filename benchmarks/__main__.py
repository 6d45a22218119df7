"""Run every benchmark with its default sizes, then print one summary table.

Each benchmark runs in its own process (so memory figures start clean) and prints its
own table as it finishes; the summary repeats every figure with the wall time taken.
These are figures to read and compare between commits on the same machine, not pass/fail.

    .venv/bin/python -m benchmarks [--postgres URL] [--only events outbox ... poll_votes]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure, read_json

BENCHMARKS = (
    "events",
    "outbox",
    "memory",
    "matching",
    "poll_votes",
    "badge_rules",
    "kpi_report",
    "dashboard_page",
)
"""The long ones (`checkin_round`, `slack_ack`, `simulation`) run on their own."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", ""))
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    args = parser.parse_args(argv)

    figures: list[Figure] = []
    timings: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only:
            output = Path(folder) / f"{name}.json"
            command = [sys.executable, "-m", f"benchmarks.{name}", "--json", str(output)]
            print(f"\n== benchmarks.{name}", flush=True)
            began = time.perf_counter()
            # Our own interpreter and module; the URL is passed as an argument, no shell.
            done = subprocess.run([*command, "--postgres", args.postgres], check=False)
            timings[name] = (time.perf_counter() - began, done.returncode)
            figures += read_json(output)

    print("\n== summary")
    print(f"{'benchmark':<10}{'database':<12}{'figure':<52}{'value':>12}  unit")
    for f in figures:
        print(f"{f.benchmark:<10}{f.database:<12}{f.name:<52}{f.value:>12,.1f}  {f.unit}")
    print()
    for name, (seconds, code) in timings.items():
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"{name:<10}{seconds:>8.1f} s  {status}")
    return max((code for _, code in timings.values()), default=0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
