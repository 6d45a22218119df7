"""1,000 votes on one poll within a second, through Slack's real HTTP path.

cohortbot runs with Slack enabled against a fake Slack Web API on loopback, on the real
clock with its scheduler and sender running. A facilitator posts a poll with a signed
slash command; then a load generator in its own process sends `--votes` signed
block_actions clicks (distinct people, all members) at an even rate over `--seconds`.
Figures: clicks acknowledged per second and their latency, votes recorded per second
(end to end, until the last vote is in the database), how many chat.update calls of the
live message reached the fake Slack, and when the live message showed every vote.

    .venv/bin/python -m benchmarks.poll_votes [--votes 1000] [--seconds 1] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import func, insert, select

from benchmarks.common import (
    Figure,
    add_common_arguments,
    databases,
    report,
    reset_database,
)
from bot.app import CohortBot
from bot.config import parse_config
from storage.models import Identity, Membership, Person, Poll, PollVote
from storage.uow import unit_of_work
from tests.fakes.slack_api import FakeSlack

NAME = "poll_votes"
SECRET = "benchmark-signing-secret"
CHANNEL = "C0COHORTA"
ROOT = Path(__file__).resolve().parent.parent


def _signed(body: str, stamp: str, content_type: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


def clicks(count: int, poll_id: int) -> list[tuple[str, dict[str, str]]]:
    """Distinct signed block_actions bodies, prepared before the clock starts."""
    stamp = str(int(time.time()))
    prepared = []
    for n in range(count):
        interaction = {
            "type": "block_actions",
            "team": {"id": "T0001", "domain": "acme"},
            "user": {"id": voter(n), "username": voter(n), "name": voter(n), "team_id": "T0001"},
            "api_app_id": "A123456",
            "container": {"type": "message", "channel_id": CHANNEL, "is_ephemeral": False},
            "trigger_id": f"bench.{n}.{stamp}",
            "channel": {"id": CHANNEL, "name": "cohort-pilot-a"},
            "message": {"type": "message", "user": "UBOT", "text": "poll"},
            "actions": [
                {
                    "action_id": f"poll.vote:{poll_id}#{n % 3 + 1}",
                    "block_id": "b1",
                    "value": str(n % 3),
                    "type": "button",
                    "action_ts": f"{stamp}.{n:06d}",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(interaction)})
        prepared.append((body, _signed(body, stamp, "application/x-www-form-urlencoded")))
    return prepared


def voter(n: int) -> str:
    return f"UV{n:07d}"


async def load(url: str, count: int, seconds: float, poll_id: int) -> dict[str, Any]:
    """Open loop: `count` clicks at an even rate over `seconds`, each on its own request."""
    requests = clicks(count, poll_id)
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(body: str, headers: dict[str, str]) -> None:
            nonlocal failures
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                failures += response.status != 200
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        tasks = []
        for n, (body, headers) in enumerate(requests):
            delay = began + n * seconds / count - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "began": time.time() - elapsed,
        "acked": len(latencies) - failures,
        "failures": failures,
        "elapsed": elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[max(0, int(len(ordered) * 0.99) - 1)],
    }


async def seed(bot: CohortBot, count: int) -> None:
    """The facilitator and `count` voters, members of pilot-a, written straight in."""
    now = bot.clock.now()
    async with unit_of_work(bot.sessions) as uow:
        workspace = await uow.people.workspace("slack", "T0001")
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        users = ["UFACIL01", *(voter(n) for n in range(count))]
        ids = list(
            await uow.session.scalars(
                insert(Person).returning(Person.id),
                [{"display_name": u, "time_zone": "UTC", "created_at": now} for u in users],
            )
        )
        await uow.session.execute(
            insert(Identity),
            [
                {"person_id": i, "workspace_id": workspace.id, "platform_user_id": u}
                for i, u in zip(ids, users, strict=True)
            ],
        )
        await uow.session.execute(
            insert(Membership),
            [
                {
                    "cohort_id": cohort.id,
                    "person_id": i,
                    "role": "facilitator" if n == 0 else "participant",
                    "status": "active",
                    "joined_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )


async def wait_for(check: Any, within: float) -> bool:
    """Poll `check()` every 50 ms until it is true or `within` seconds pass."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def count_votes(
    bot: CohortBot, poll_id: int, args: argparse.Namespace, began: float
) -> tuple[int, float]:
    """(votes recorded, seconds from the first click to the last one recorded)."""
    recorded, last_change = 0, time.time()
    deadline = time.perf_counter() + args.wait
    while recorded < args.votes and time.perf_counter() < deadline:
        async with unit_of_work(bot.sessions) as uow:
            found = await uow.session.scalar(
                select(func.count(PollVote.id)).where(PollVote.poll_id == poll_id)
            )
        if int(found or 0) != recorded:
            recorded, last_change = int(found or 0), time.time()
        await asyncio.sleep(0.05)
    return recorded, last_change - began


async def run_one(label: str, url: str, args: argparse.Namespace) -> list[Figure]:
    await reset_database(url)
    fake = FakeSlack()
    fake_runner = web.AppRunner(fake.app(), access_log=None)
    await fake_runner.setup()
    await web.TCPSite(fake_runner, "127.0.0.1", 0).start()
    api = f"http://127.0.0.1:{fake_runner.addresses[0][1]}"
    environ = {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{api}/api/",
        "SLACK_COHORT_CHANNEL": CHANNEL,
    }
    config = parse_config((ROOT / "app.yaml").read_text("utf-8"), environ=environ)
    bot = CohortBot(config)
    await bot.prepare()
    await seed(bot, args.votes)
    bot.start_background()
    runner = web.AppRunner(bot.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        return await _measure(label, bot, fake, endpoint, args)
    finally:
        await runner.cleanup()
        await bot.stop()
        await fake_runner.cleanup()


async def _measure(
    label: str, bot: CohortBot, fake: FakeSlack, endpoint: str, args: argparse.Namespace
) -> list[Figure]:
    command = urlencode(
        {
            "team_id": "T0001",
            "channel_id": CHANNEL,
            "channel_name": "cohort-pilot-a",
            "user_id": "UFACIL01",
            "user_name": "fay",
            "command": "/cohort",
            "text": 'poll "Which format next?" "Role play" "Case study" "Open Q&A"',
            "trigger_id": "bench.command",
        }
    )
    async with aiohttp.ClientSession() as session:
        headers = _signed(command, str(int(time.time())), "application/x-www-form-urlencoded")
        async with session.post(endpoint, data=command, headers=headers) as response:
            assert response.status == 200, await response.text()

    async def posted() -> bool:
        return any(p["text"].startswith("📊") for p in fake.called("chat.postMessage"))

    assert await wait_for(posted, 30), "the poll was never posted"
    async with unit_of_work(bot.sessions) as uow:
        poll_id = int(await uow.session.scalar(select(func.max(Poll.id))) or 0)
    updates_before = len(fake.called("chat.update"))

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.poll_votes",
        "--client",
        endpoint,
        str(args.votes),
        str(args.seconds),
        str(poll_id),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    loaded = json.loads(out)

    recorded, recorded_after = await count_votes(bot, poll_id, args, loaded["began"])
    final = f"{args.votes} voted so far"

    async def shown() -> bool:
        return any(final in u["text"] for u in fake.called("chat.update"))

    updates_when_recorded = len(fake.called("chat.update")) - updates_before
    shown_all = await wait_for(shown, args.wait)
    shown_after = time.time() - loaded["began"]
    updates = len(fake.called("chat.update")) - updates_before
    receipts = len(fake.called("chat.postEphemeral"))
    return [
        Figure(NAME, label, "clicks sent", args.votes, "clicks"),
        Figure(
            NAME, label, "clicks acknowledged per second", loaded["acked"] / loaded["elapsed"], "/s"
        ),
        Figure(NAME, label, "click ack latency p50", loaded["p50_ms"], "ms"),
        Figure(NAME, label, "click ack latency p99", loaded["p99_ms"], "ms"),
        Figure(NAME, label, "failed clicks", loaded["failures"], "clicks"),
        Figure(NAME, label, "votes recorded", recorded, "votes"),
        Figure(NAME, label, "last vote recorded after the first click", recorded_after, "s"),
        Figure(NAME, label, "votes recorded per second", recorded / recorded_after, "/s"),
        Figure(
            NAME, label, "chat.update calls until the last vote", updates_when_recorded, "calls"
        ),
        Figure(NAME, label, "chat.update calls of the live message", updates, "calls"),
        Figure(
            NAME,
            label,
            "live message shows every vote after",
            shown_after if shown_all else float("nan"),
            "s",
        ),
        Figure(NAME, label, "vote receipts delivered within the wait", receipts, "messages"),
    ]


async def main(args: argparse.Namespace) -> None:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        for label, url in databases(Path(folder), args.postgres):
            figures += await run_one(label, url, args)
    report(figures, args.json)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_arguments(parser)
    parser.add_argument("--votes", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=1.0, help="spread the clicks over this")
    parser.add_argument(
        "--wait", type=float, default=240.0, help="how long to wait for votes and the live message"
    )
    parser.add_argument("--client", nargs=4, metavar=("URL", "VOTES", "SECONDS", "POLL_ID"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.client:
        target, votes, spread, poll = arguments.client
        print(json.dumps(asyncio.run(load(target, int(votes), float(spread), int(poll)))))
    else:
        asyncio.run(main(arguments))
