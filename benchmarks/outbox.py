"""Outbox drain rate: messages/s the real sender delivers to a fake platform.

M messages are queued through `Effects.queue` (the path flows use) over K lanes: DMs to
`--dms` people and posts to `--channels` channels, round robin. Then the bot's own sender
loop (`Sender.run`, real system clock, leader lock, app.yaml's sender concurrency) drains
them into a fake platform whose `deliver` answers after a fixed latency. The rate is M
over the time from starting the sender to the last row settled; every run starts from an
empty database.

- 0 ms: the cost of the sender and the database per message (no rate limits).
- 50 ms: a slow platform API; the ceiling is concurrency / latency (8 / 0.05 s = 160/s).
- 1/s per lane: Slack-like limits; the ceiling is one message per lane per second, so
  the rate should sit at or under K/s however fast the platform is.
- enqueue: how fast `Effects.queue` writes rows, 500 per transaction.

    .venv/bin/python -m benchmarks.outbox [--messages 5000] [--slow-messages 1500]
        [--limited-messages 1000] [--dms 200] [--channels 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from dataclasses import dataclass

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    on_each_database,
    report,
    reset_database,
)
from bot.app import CohortBot
from bot.model.messages import AudienceKind, Delivery, Message, Section, Target
from bot.model.ports import Rate, RateLimits
from bot.runtime.effects import Effects
from storage.uow import unit_of_work

NAME = "outbox"
PLATFORM = "bench"
CHUNK = 500


class FakePlatform:
    """A PlatformClient whose API takes `latency` seconds per call and never fails."""

    def __init__(self, *, latency: float, limits: RateLimits, expected: int) -> None:
        self._latency = latency
        self._limits = limits
        self._expected = expected
        self.delivered = 0
        self.done = asyncio.Event()

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def limits(self) -> RateLimits:
        return self._limits

    async def deliver(self, delivery: Delivery) -> str:
        if self._latency:
            await asyncio.sleep(self._latency)
        self.delivered += 1
        if self.delivered >= self._expected:
            self.done.set()
        return f"{PLATFORM}-{delivery.outbox_id}"


def lanes(dms: int, channels: int) -> list[Target]:
    people = [
        Target(platform=PLATFORM, workspace="T1", kind=AudienceKind.DM, user_id=f"U{n:05d}")
        for n in range(dms)
    ]
    rooms = [
        Target(platform=PLATFORM, workspace="T1", kind=AudienceKind.CHANNEL, channel_id=f"C{n:03d}")
        for n in range(channels)
    ]
    return people + rooms


async def enqueue(bot: CohortBot, targets: list[Target], messages: int) -> float:
    """Queue `messages` round robin over the targets; returns the seconds it took."""
    began = time.perf_counter()
    now = bot.clock.now()
    for start in range(0, messages, CHUNK):
        async with unit_of_work(bot.sessions) as uow:
            effects = Effects(uow, source=f"bench:{start}", now=now, platforms=bot.platforms)
            for n in range(start, min(start + CHUNK, messages)):
                text = f"Benchmark message {n}: reminder, the session starts at 15:00."
                message = Message(text=text, blocks=[Section(text=text)])
                await effects.queue(targets[n % len(targets)], message)
    return time.perf_counter() - began


@dataclass(frozen=True)
class Drained:
    enqueue_seconds: float
    drain_seconds: float
    delivered: int
    depth: dict[str, int]
    """Outbox rows by status at the end."""


async def drain(
    url: str,
    *,
    latency: float,
    limits: RateLimits,
    messages: int,
    targets: list[Target],
    give_up_after: float,
) -> Drained:
    """Queue, then run the sender until all are delivered (or give up), on a fresh database."""
    await reset_database(url)
    platform = FakePlatform(latency=latency, limits=limits, expected=messages)
    bot = CohortBot(bench_config(url), extra_clients={PLATFORM: platform})
    try:
        await bot.prepare()
        queued = await enqueue(bot, targets, messages)
        began = time.perf_counter()
        sender = asyncio.create_task(bot.sender.run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(platform.done.wait(), timeout=give_up_after)
        bot.sender.stop()
        await sender
        drained = time.perf_counter() - began
        async with unit_of_work(bot.sessions) as uow:
            depth = await uow.outbox.depth()
    finally:
        await bot.stop()
    return Drained(queued, drained, platform.delivered, depth)


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    targets = lanes(args.dms, args.channels)
    per_lane = RateLimits(per_lane=(Rate(burst=1, per_seconds=1.0),))
    runs = [
        ("0 ms, no limits", 0.0, RateLimits(), args.messages),
        ("50 ms, no limits", 0.05, RateLimits(), args.slow_messages),
    ]
    if args.limited_messages:
        runs.append(("0 ms, 1/s per lane", 0.0, per_lane, args.limited_messages))
    figures: list[Figure] = []
    for name, latency, limits, count in runs:
        result = await drain(
            url,
            latency=latency,
            limits=limits,
            messages=count,
            targets=targets,
            give_up_after=args.timeout,
        )
        rate = result.delivered / result.drain_seconds
        figures.append(Figure(NAME, label, f"{name}: {count} msgs", rate, "msg/s"))
        if result.depth.get("sent", 0) != count:
            print(f"warning: {label}, {name}: outbox ended as {result.depth}, {count} queued")
        if limits.per_lane:
            # Each lane sends its first message at once, then one per second.
            ceiling = count / max(1, math.ceil(count / len(targets)) - 1)
            figures.append(Figure(NAME, label, "  ceiling under 1/s per lane", ceiling, "msg/s"))
        elif latency == 0.0:
            enqueue_rate = count / result.enqueue_seconds
            figures.append(Figure(NAME, label, "enqueue via Effects.queue", enqueue_rate, "msg/s"))
    return figures


async def run(args: argparse.Namespace) -> list[Figure]:
    print(f"lanes: {args.dms} DMs + {args.channels} channels = {args.dms + args.channels}")
    return await on_each_database(measure, args)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=5000, help="per run (default 5000)")
    parser.add_argument("--dms", type=int, default=200, help="DM lanes (default 200)")
    parser.add_argument("--channels", type=int, default=5, help="channel lanes (default 5)")
    parser.add_argument(
        "--slow-messages",
        type=int,
        default=1500,
        help="messages for the 50 ms run, which is latency-bound (default 1500)",
    )
    parser.add_argument(
        "--limited-messages",
        type=int,
        default=1000,
        help="messages for the 1/s-per-lane run; 0 skips it (default 1000)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up a run after this many seconds"
    )
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
