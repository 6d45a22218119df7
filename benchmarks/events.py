"""DM answers processed per second: inbox, router, join flow and storage, without delivery.

Setup (not timed): N people each send `/cohort join pilot-a`, so each has a join flow
waiting for the time-zone answer; the welcome messages are delivered. Measured: each of
them DMs the answer ("Europe/Lisbon") through `CohortBot.accept`, as the local adapter
does, with a unique event id, until the dispatcher has processed every event.

- burst: all N answers arrive at once. "events/s" is N over the time from the first
  accept to the last commit. Latencies here include waiting behind earlier events.
- paced: another N people answer at a fixed arrival rate (default half the burst rate),
  so latency is close to the time one event takes when the bot is not saturated.
- ack: time for `accept` to return (the inbox row written), what a platform waits for.
- processing latency: from the accept call to the commit of the event's transaction.
- delivery: the answers' replies then drained from the outbox to the playground
  transcript by the real sender, timed separately.

    .venv/bin/python -m benchmarks.events [--people 200] [--rate R] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select

from benchmarks.common import (
    Figure,
    add_common_arguments,
    bench_config,
    on_each_database,
    percentile,
    report,
    reset_database,
)
from bot.app import CohortBot
from bot.model.events import Actor, CommandInvoked, InboundEvent, MessageReceived
from storage.models import Activity, InboxEvent
from storage.uow import unit_of_work

NAME = "events"
ANSWER = "Europe/Lisbon"


class Completions(logging.Handler):
    """Notes when the dispatcher reports an event processed, which it does after commit."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.at: dict[int, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        inbox_id = getattr(record, "inbox_id", None)
        if record.msg == "event processed" and isinstance(inbox_id, int):
            self.at[inbox_id] = time.perf_counter()


@dataclass
class Run:
    events: int
    seconds: float = 0.0
    acks: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def actors(group: str, count: int) -> list[Actor]:
    return [
        Actor(
            platform="local",
            workspace="local",
            user_id=f"{group}-{n:05d}",
            display_name=f"Bench {group} {n}",
            time_zone="UTC",
        )
        for n in range(count)
    ]


async def join(bot: CohortBot, people: list[Actor]) -> None:
    """Everyone joins pilot-a and gets the welcome and the time-zone question delivered."""
    await asyncio.gather(
        *(
            bot.accept(
                CommandInvoked(event_id=f"join-{uuid.uuid4()}", actor=a, text="join pilot-a")
            )
            for a in people
        )
    )
    await bot.dispatcher.drain()
    while await bot.sender.drain_once():
        pass


async def answer(
    bot: CohortBot, people: list[Actor], completions: Completions, rate: float | None
) -> Run:
    """Every person DMs the answer: all at once, or `rate` per second; until all processed."""
    events: list[InboundEvent] = [
        MessageReceived(event_id=f"answer-{uuid.uuid4()}", actor=a, is_direct=True, text=ANSWER)
        for a in people
    ]
    run = Run(events=len(events))
    started: dict[str, float] = {}

    async def send(event: InboundEvent) -> None:
        started[event.event_id] = begun = time.perf_counter()
        await bot.accept(event)
        run.acks.append(time.perf_counter() - begun)

    began = time.perf_counter()
    if rate is None:
        await asyncio.gather(*(send(event) for event in events))
    else:
        tasks = []
        for n, event in enumerate(events):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(event)))
        await asyncio.gather(*tasks)
    await bot.dispatcher.drain()
    run.seconds = time.perf_counter() - began

    async with unit_of_work(bot.sessions) as uow:
        rows = await uow.session.execute(
            select(InboxEvent.event_id, InboxEvent.id).where(InboxEvent.event_id.in_(started))
        )
        inbox_ids = dict(rows.all())
    run.latencies = [
        completions.at[inbox_ids[event_id]] - begun
        for event_id, begun in started.items()
        if inbox_ids.get(event_id) in completions.at
    ]
    return run


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    bot = CohortBot(bench_config(url))
    await bot.prepare()
    completions = Completions()
    dispatch_log = logging.getLogger("bot.runtime.dispatch")
    dispatch_log.addHandler(completions)
    dispatch_log.setLevel(logging.INFO)
    try:
        burst_people, paced_people = actors("burst", args.people), actors("paced", args.people)
        await join(bot, burst_people)
        burst = await answer(bot, burst_people, completions, rate=None)
        rate = args.rate or burst.events / burst.seconds / 2
        await join(bot, paced_people)
        paced = await answer(bot, paced_people, completions, rate=rate)

        began, sent = time.perf_counter(), 0
        while settled := await bot.sender.drain_once():
            sent += settled
        delivery_seconds = time.perf_counter() - began
        async with unit_of_work(bot.sessions) as uow:
            confirmed = await uow.session.scalar(
                select(func.count(Activity.id)).where(
                    Activity.verb == "profile.time_zone_confirmed"
                )
            )
    finally:
        dispatch_log.removeHandler(completions)
        await bot.stop()

    def figure(name: str, value: float, unit: str) -> Figure:
        return Figure(NAME, label, name, value, unit)

    ms = 1000.0
    return [
        figure(f"burst of {burst.events}: events/s", burst.events / burst.seconds, "events/s"),
        figure("burst: ack p50", percentile(burst.acks, 0.5) * ms, "ms"),
        figure("burst: ack p99", percentile(burst.acks, 0.99) * ms, "ms"),
        figure("burst: processing latency p50", percentile(burst.latencies, 0.5) * ms, "ms"),
        figure("burst: processing latency p99", percentile(burst.latencies, 0.99) * ms, "ms"),
        figure(f"paced at {rate:.0f}/s: ack p50", percentile(paced.acks, 0.5) * ms, "ms"),
        figure(f"paced at {rate:.0f}/s: ack p99", percentile(paced.acks, 0.99) * ms, "ms"),
        figure("paced: processing latency p50", percentile(paced.latencies, 0.5) * ms, "ms"),
        figure("paced: processing latency p99", percentile(paced.latencies, 0.99) * ms, "ms"),
        figure(f"delivery of {sent} replies (separate)", sent / delivery_seconds, "msg/s"),
        figure("answers confirmed by the flow", float(confirmed or 0), f"of {2 * args.people}"),
    ]


async def run(args: argparse.Namespace) -> list[Figure]:
    return await on_each_database(measure, args)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--people", type=int, default=200, help="answers per run (default 200)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="paced arrivals/s (default: half the burst rate)"
    )
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
