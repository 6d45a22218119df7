"""Slack delivery under a workspace rate limit: the real sender against a limiting fake Slack.

Real system clock, real bot (`CohortBot` with its Slack adapter and `start_background`)
on SQLite, against `tests.fakes.slack_api.FakeSlack` on loopback with a workspace token
bucket of L posts/s (bursts of 3 s, starting full) and Slack's one post per second per
conversation. For each `--limits` L:

1. bulk drain: N DMs to N distinct users queued as bulk through `Effects.queue`, then the
   sender started; figures: accepted posts / (L x drain seconds) ("share of limit"; the
   full bucket at the start lets short drains exceed 100 %), share of posts answered 429,
   and the rate the sender learned by the end.
2. reply latency during the drain: every 0.5 s a signed `/cohort help` slash command over
   HTTP; the time from sending it to the fake receiving the response_url post, p50/p99.
3. plain slack_sdk: the same N DMs sent one after another by an `AsyncWebClient` with
   `AsyncRateLimitErrorRetryHandler(max_retry_count=100)` against a fresh fake with the
   same limits; its share of the limit, share 429 and the ratio bot / plain.
4. kickoff (L = 15/s): `--joins` people type a signed `/cohort join` at once; the time to
   each one's reply (response_url) and to their first DM, p50 and p95. The bot runs as it
   is deployed, `cohortbot serve` in its own process (benchmarks/bot_process.py), so the
   fake Slack and the 200 clients here do not take its CPU.

Then once (with the highest limit): repeats after SIGKILL. A child process runs the bot's
sender on a SQLite file against the fake (served here), is killed 2 s into a drain of N
DMs, and a new child finishes the queue; figures: DMs that reached the fake twice (same
outbox id, `FakeSlack.duplicates`) and DMs that never arrived. The child process and its
helpers are tests/fakes/sender_process.py, shared with tests/adapters/*/test_*_crash.py.

    .venv/bin/python -m benchmarks.delivery [--dms 300] [--limits 4,15] [--joins 200]
        [--no-kill] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import ClientSession, web
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from benchmarks.bot_process import served_bot
from benchmarks.common import Figure, add_common_arguments, percentile, report, reset_database
from bot.app import CohortBot
from tests.fakes.sender_process import (
    SECRET,
    SLACK_PEOPLE,
    TOKEN,
    dm_text,
    enqueue_dms,
    kill,
    serve,
    slack_config,
    slack_environ,
    start_sender,
    wait_for_posts,
    wait_process,
)
from tests.fakes.slack_api import TEAM, FakeSlack

NAME = "delivery"
KICKOFF_LIMIT = 15.0
"""The workspace limit of the kickoff run (posts/s)."""
COMMAND_EVERY = 0.5
KILL_AFTER = 2.0


@dataclass
class TimedFake(FakeSlack):
    """FakeSlack that also notes when each response_url post arrived (perf_counter)."""

    received: dict[str, float] = field(default_factory=dict)

    async def _response_url(self, request: web.Request) -> web.Response:
        answer = await super()._response_url(request)
        self.received.setdefault(request.match_info["hook"], time.perf_counter())
        return answer


def limited_fake(limit: float) -> TimedFake:
    fake = TimedFake()
    fake.limit_workspace(limit, burst_seconds=3.0)
    fake.limit_per_channel(1.0)
    return fake


def signed_command(
    n: int, response_url: str, *, text: str = "help", user_id: str | None = None
) -> tuple[str, dict[str, str]]:
    body = urlencode(
        {
            "team_id": TEAM,
            "channel_id": "C0COHORTA",
            "channel_name": "cohort-pilot-a",
            "user_id": user_id or f"UASK{n:05d}",
            "user_name": f"asker{n}",
            "command": "/cohort",
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{n}",
        }
    )
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }
    return body, headers


async def ask_help(bot_url: str, api: str, stop: asyncio.Event) -> dict[str, float]:
    """Every 0.5 s a signed `/cohort help` until `stop`; hook -> time the request was sent."""
    sent: dict[str, float] = {}
    async with ClientSession() as session:

        async def one(n: int) -> None:
            hook = f"help-{n}"
            body, headers = signed_command(n, f"{api}/response/{hook}")
            sent[hook] = time.perf_counter()
            async with session.post(f"{bot_url}/slack/events", data=body, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    print(f"warning: /cohort help answered HTTP {r.status}")

        tasks: list[asyncio.Task[None]] = []
        began = time.perf_counter()
        n = 0
        while not stop.is_set():
            tasks.append(asyncio.create_task(one(n)))
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), began + n * COMMAND_EVERY - time.perf_counter())
        await asyncio.gather(*tasks)
    return sent


@dataclass(frozen=True)
class Drain:
    accepted: int
    seconds: float
    share_refused: float


async def bot_drain(
    url: str, limit: float, count: int, give_up_after: float
) -> tuple[Drain, list[float], float]:
    """Steps 1 and 2: the bot drains `count` DMs while slash commands come in."""
    await reset_database(url)
    fake = limited_fake(limit)
    fake_runner, api = await serve(fake.app())
    bot = CohortBot(slack_config(url, api))
    bot_runner: web.AppRunner | None = None
    try:
        await bot.prepare()
        await enqueue_dms(bot, count)
        bot_runner, bot_url = await serve(bot.web)
        stop = asyncio.Event()
        # The sender's first post opens the drain; measure from the first accepted post's
        # arrival so that start-up (migrations, leader lock) does not count as drain time.
        bot.start_background()
        asker = asyncio.create_task(ask_help(bot_url, api, stop))
        done = await wait_for_posts(fake, count, give_up_after)
        stop.set()
        sent = await asker
        await asyncio.sleep(1.0)  # let the last answers arrive
        if not done:
            print(f"warning: L={limit}: only {len(fake.accepted_times)} of {count} DMs in time")
        times = fake.accepted_times[:count]
        # The first post arrives at t0; count the rest over (last - t0), plus one slot.
        seconds = times[-1] - times[0] + 1.0 / limit
        latencies = [
            fake.received[hook] - began for hook, began in sent.items() if hook in fake.received
        ]
        if len(latencies) < len(sent):
            print(f"warning: L={limit}: {len(sent) - len(latencies)} help answers never arrived")
        learned = bot.sender.learned_rates().get(("slack", TEAM), 0.0)
        return Drain(len(times), seconds, fake.share_refused()), latencies, learned
    finally:
        if bot_runner is not None:
            await bot_runner.cleanup()
        await bot.stop()
        await fake_runner.cleanup()


@dataclass(frozen=True)
class Kickoff:
    replies: list[float]
    first_dms: list[float]
    share_refused: float


async def kickoff(url: str, limit: float, people: int, give_up_after: float) -> Kickoff:
    """`people` signed `/cohort join` at once; seconds to each reply and each first DM."""
    await reset_database(url)
    fake = limited_fake(limit)
    fake_runner, api = await serve(fake.app())
    users = [f"UJOIN{n:05d}" for n in range(people)]
    for n, user_id in enumerate(users):  # members of the workspace, as in a real kickoff
        fake.add_user(user_id, f"person{n}@example.org", name=f"Person {n}")
    first_dm: dict[str, float] = {}
    try:
        async with (
            served_bot({"DATABASE_URL": url, **slack_environ(api)}) as bot_url,
            ClientSession() as session,
        ):

            async def join(n: int, user_id: str) -> float:
                body, headers = signed_command(
                    n, f"{api}/response/join-{n}", text="join pilot-a", user_id=user_id
                )
                began = time.perf_counter()
                async with session.post(f"{bot_url}/slack/events", data=body, headers=headers):
                    return began

            sent = await asyncio.gather(*(join(n, user) for n, user in enumerate(users)))
            deadline = time.perf_counter() + give_up_after
            while time.perf_counter() < deadline:
                now = time.perf_counter()
                for user in users:
                    if user not in first_dm and fake.posts_to(user):
                        first_dm[user] = now
                if len(first_dm) == people and len(fake.received) >= people:
                    break
                await asyncio.sleep(0.05)
        replies = [
            fake.received[f"join-{n}"] - sent[n]
            for n in range(people)
            if f"join-{n}" in fake.received
        ]
        dms = [first_dm[user] - sent[n] for n, user in enumerate(users) if user in first_dm]
        if len(replies) < people or len(dms) < people:
            print(f"warning: kickoff: {len(replies)} replies, {len(dms)} first DMs in time")
        return Kickoff(replies, dms, fake.share_refused())
    finally:
        await fake_runner.cleanup()


async def plain_drain(limit: float, count: int) -> Drain:
    """Step 3: the same DMs by a plain sequential slack_sdk loop with its 429 retry handler."""
    fake = limited_fake(limit)
    runner, api = await serve(fake.app())
    client = AsyncWebClient(
        token=TOKEN,
        base_url=f"{api}/api/",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=100)],
    )
    try:
        for n in range(count):
            try:
                await client.chat_postMessage(channel=SLACK_PEOPLE.user(n), text=dm_text(n))
            except SlackApiError as error:
                print(f"warning: plain slack_sdk gave up on DM {n}: {error.response['error']}")
        times = fake.accepted_times
        seconds = times[-1] - times[0] + 1.0 / limit if times else 1.0
        return Drain(len(times), seconds, fake.share_refused())
    finally:
        if client.session is not None:
            await client.session.close()
        await runner.cleanup()


# Step 4: repeats after SIGKILL.


async def killed_drain(limit: float, count: int, give_up_after: float) -> tuple[int, int, int]:
    """(duplicates, missing, accepted) after a SIGKILL 2 s into the drain and a restart."""
    fake = limited_fake(limit)
    runner, api = await serve(fake.app())
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/killed.db"
            first = start_sender(url, slack_environ(api), count)
            if not await wait_for_posts(fake, 1, give_up_after):
                print("warning: the first child sent nothing")
            await asyncio.sleep(KILL_AFTER)
            if not kill(first):
                print("warning: the first child ended before the kill")
            first.join()
            print(f"killed after {len(fake.accepted_times)} of {count} DMs were accepted")
            second = start_sender(url, slack_environ(api))
            if not await wait_process(second, give_up_after):
                print("warning: child sender still running at the timeout: killed")
        reached = sum(1 for n in range(count) if fake.posts_to(SLACK_PEOPLE.user(n)))
        return fake.duplicates(), count - reached, len(fake.accepted_times)
    finally:
        await runner.cleanup()


async def measure(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    count = args.dms
    for limit in args.limits:
        tag = f"L={limit:g}/s"
        began = time.perf_counter()
        bot, latencies, learned = await bot_drain(url, limit, count, args.timeout)
        plain = await plain_drain(limit, count) if label == "sqlite" else None
        bot_share = bot.accepted / (limit * bot.seconds)
        figures += [
            Figure(NAME, label, f"{tag} bot: {count} DMs drain", bot.seconds, "s"),
            Figure(NAME, label, f"{tag} bot: share of limit reached", 100 * bot_share, "%"),
            Figure(NAME, label, f"{tag} bot: share answered 429", 100 * bot.share_refused, "%"),
            Figure(NAME, label, f"{tag} bot: learned rate at end", learned, "posts/s"),
            Figure(
                NAME, label, f"{tag} reply latency p50", 1000 * percentile(latencies, 0.5), "ms"
            ),
            Figure(
                NAME, label, f"{tag} reply latency p99", 1000 * percentile(latencies, 0.99), "ms"
            ),
            Figure(NAME, label, f"{tag} replies measured", float(len(latencies)), "replies"),
        ]
        if plain is not None:
            plain_share = plain.accepted / (limit * plain.seconds)
            figures += [
                Figure(NAME, label, f"{tag} plain sdk: drain", plain.seconds, "s"),
                Figure(NAME, label, f"{tag} plain sdk: share of limit", 100 * plain_share, "%"),
                Figure(NAME, label, f"{tag} plain sdk: share 429", 100 * plain.share_refused, "%"),
                Figure(NAME, label, f"{tag} ratio bot/plain share", bot_share / plain_share, "x"),
            ]
        print(f"{label} {tag}: done in {time.perf_counter() - began:.0f} s", flush=True)
    if args.joins:
        limit = KICKOFF_LIMIT
        joined = await kickoff(url, limit, args.joins, args.timeout)
        tag = f"kickoff L={limit:g}/s, {args.joins} joins"
        for name, values in (("reply", joined.replies), ("first DM", joined.first_dms)):
            for share in (0.5, 0.95):
                figures.append(
                    Figure(
                        NAME,
                        label,
                        f"{tag}: {name} p{round(100 * share)}",
                        percentile(values, share),
                        "s",
                    )
                )
        figures.append(
            Figure(NAME, label, f"{tag}: share answered 429", 100 * joined.share_refused, "%")
        )
    return figures


async def run(args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        figures += await measure("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    if args.postgres:
        figures += await measure("postgresql", args.postgres, args)
    if not args.no_kill:
        limit = max(args.limits)  # the fastest limit keeps this run short
        duplicates, missing, accepted = await killed_drain(limit, args.dms, args.timeout)
        tag = f"L={limit:g}/s SIGKILL+restart"
        figures += [
            Figure(NAME, "sqlite", f"{tag}: DMs posted twice", duplicates, "DMs"),
            Figure(NAME, "sqlite", f"{tag}: DMs missing", missing, "DMs"),
            Figure(NAME, "sqlite", f"{tag}: posts accepted", accepted, "posts"),
        ]
    return figures


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks.delivery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dms", type=int, default=300, help="DMs per run (default 300)")
    parser.add_argument(
        "--limits",
        type=lambda text: [float(part) for part in text.split(",") if part],
        default=[4.0, 15.0],
        help="workspace limits in posts/s, comma separated (default 4,15)",
    )
    parser.add_argument(
        "--joins",
        type=int,
        default=200,
        help="people typing /cohort join at once in the kickoff run (default 200; 0 skips)",
    )
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up a drain after this many seconds"
    )
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main(sys.argv[1:])
