"""Matching one cycle of a large cohort: `flows.matching.pairing.match` for 200 people.

The people get random (seeded) strengths and skills to learn from eight skills and one
of eight time zones; a few earlier cycles are formed first and fed back as history, so
the repeat penalty and mentor rotation do real work. Each mode (pairs; triads with the
mentors) is timed over a few runs of the next cycle:

- wall time is the median of the runs (time.perf_counter), in milliseconds;
- peak memory is tracemalloc's peak during one run, in MiB (Python allocations only).

    .venv/bin/python -m benchmarks.matching [--people 200] [--mentors 4] [--history 4]
        [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime

from benchmarks.common import Figure, add_common_arguments, report
from flows.matching.pairing import Candidate, Group, History, match

NAME = "matching"
SKILLS = (
    "giving feedback",
    "presenting",
    "facilitation",
    "coaching conversations",
    "negotiation",
    "writing",
    "prioritising",
    "storytelling",
)
ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
)
ON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--mentors", type=int, default=4, help="lead mentors for triads")
    parser.add_argument("--history", type=int, default=4, help="earlier cycles to remember")
    parser.add_argument("--runs", type=int, default=3)
    add_common_arguments(parser)
    return parser.parse_args(argv)


def cohort(size: int, seed: int = 7) -> list[Candidate]:
    """`size` participants with seeded random profiles."""
    rng = random.Random(seed)
    people = []
    for pid in range(1, size + 1):
        strengths = frozenset(rng.sample(SKILLS, rng.randint(1, 3)))
        gaps = frozenset(rng.sample([s for s in SKILLS if s not in strengths], rng.randint(1, 3)))
        people.append(Candidate(pid, f"P{pid}", strengths, gaps, rng.choice(ZONES)))
    return people


def earlier_cycles(
    people: list[Candidate], *, mode: str, mentors: list[int], cycles: int
) -> list[Group]:
    """Groups of `cycles` earlier cycles, each formed against the ones before it."""
    groups: list[Group] = []
    for cycle in range(1, cycles + 1):
        groups += match(
            people, mode=mode, mentors=mentors, history=History.of(groups), seed=cycle, on=ON
        )
    return groups


def measure(
    people: list[Candidate], *, mode: str, mentors: list[int], history: History, runs: int
) -> tuple[float, float, int]:
    """(median wall ms, peak traced MiB, groups formed) for one more cycle."""
    timings: list[float] = []
    formed: list[Group] = []
    for _ in range(runs):
        began = time.perf_counter()
        formed = match(people, mode=mode, mentors=mentors, history=history, seed=99, on=ON)
        timings.append((time.perf_counter() - began) * 1000)
    tracemalloc.start()
    match(people, mode=mode, mentors=mentors, history=history, seed=99, on=ON)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(timings), peak / 2**20, len(formed)


def run(args: argparse.Namespace) -> list[Figure]:
    people = cohort(args.people)
    # Mentors are staff, not participants: ids after the participants'.
    mentors = list(range(args.people + 1, args.people + 1 + args.mentors))
    figures: list[Figure] = []
    for mode in ("pairs", "triads"):
        past = earlier_cycles(people, mode=mode, mentors=mentors, cycles=args.history)
        wall, peak, groups = measure(
            people, mode=mode, mentors=mentors, history=History.of(past), runs=args.runs
        )
        label = f"{mode}, {args.people} people, {args.history} earlier cycles"
        if mode == "triads":
            label += f", {args.mentors} mentors"
        print(f"{label}: {groups} groups", flush=True)
        figures += [
            Figure(NAME, "in-memory", f"{mode}: wall time per cycle", wall, "ms"),
            Figure(NAME, "in-memory", f"{mode}: peak traced memory", peak, "MiB"),
        ]
    return figures


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(run(args), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
