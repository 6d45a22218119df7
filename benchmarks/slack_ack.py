"""Signed slash commands acknowledged per second: cohortbot's full stack against bare bolt.

Two servers on loopback, measured one after the other by a load generator in its own
process (so it does not share the server's event loop):
- bare: a slack-bolt AsyncApp whose `/cohort` handler only acknowledges;
- full: cohortbot with Slack enabled (request verification, inbox row, ack, then the
  command processed and answered through the outbox to a fake Slack API).
Closed loop (fixed concurrency, as fast as possible) gives the rate; open loop at a fixed
arrival rate gives ack latency percentiles. Read "ratio" as full rate / bare rate.

    .venv/bin/python -m benchmarks.slack_ack [--seconds 10] [--concurrency 32] [--rate 200]
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
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.app import CohortBot
from bot.config import parse_config
from tests.fakes.slack_api import FakeSlack

SECRET = "benchmark-signing-secret"
ROOT = Path(__file__).resolve().parent.parent


def signed_requests(count: int, response_url: str) -> list[tuple[str, dict[str, str]]]:
    """Distinct signed `/cohort help` commands, prepared before the clock starts."""
    stamp = str(int(time.time()))
    prepared = []
    for n in range(count):
        body = urlencode(
            {
                "team_id": "T0001",
                "channel_id": "C0COHORTA",
                "channel_name": "cohort-pilot-a",
                "user_id": f"U{n % 500:07d}",
                "user_name": f"user{n % 500}",
                "command": "/cohort",
                "text": "help",
                "response_url": response_url,
                "trigger_id": f"trigger-{n}",
            }
        )
        digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        }
        prepared.append((body, headers))
    return prepared


async def load(
    url: str, response_url: str, mode: str, seconds: float, concurrency: int, rate: float
) -> dict[str, Any]:
    requests = signed_requests(int(max(rate, 3000) * seconds * 2), response_url)
    latencies: list[float] = []
    failures = 0
    index = 0
    connector = aiohttp.TCPConnector(limit=concurrency if mode == "closed" else 0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            nonlocal index, failures
            body, headers = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        if mode == "closed":

            async def worker() -> None:
                while time.perf_counter() - began < seconds:
                    await one()

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        else:
            tasks = []
            for n in range(int(rate * seconds)):
                delay = began + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "failures": failures,
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(len(ordered) * 0.99) - 1],
    }


async def measure(url: str, response_url: str, args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    for mode in ("closed", "open"):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.slack_ack",
            "--client",
            url,
            response_url,
            mode,
            "--seconds",
            str(args.seconds),
            "--concurrency",
            str(args.concurrency),
            "--rate",
            str(args.rate),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        results[mode] = json.loads(out)
    return results


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def bare_bolt_app() -> web.Application:
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-x", bot_user_id="UBOT"
        )

    bolt = AsyncApp(signing_secret=SECRET, authorize=authorize)

    @bolt.command("/cohort")
    async def noop(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def main(args: argparse.Namespace) -> None:
    fake = FakeSlack()
    fake_runner = web.AppRunner(fake.app(), access_log=None)
    await fake_runner.setup()
    fake_site = web.TCPSite(fake_runner, "127.0.0.1", 0)
    await fake_site.start()
    api = f"http://127.0.0.1:{fake_runner.addresses[0][1]}"
    response_url = f"{api}/response/bench"

    bare: dict[str, Any] = {
        "closed": {"rate": 1.0, "failures": 0},
        "open": {"p50_ms": 0, "p99_ms": 0, "failures": 0},
    }
    if not args.full_only:
        runner, url = await serve(bare_bolt_app())
        bare = await measure(url, response_url, args)
        await runner.cleanup()

    with tempfile.TemporaryDirectory() as folder:
        environ = {
            "DATABASE_URL": args.database or f"sqlite+aiosqlite:///{folder}/bench.db",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{api}/api/",
        }
        config = parse_config((ROOT / "app.yaml").read_text("utf-8"), environ=environ)
        bot = CohortBot(config)
        await bot.prepare()
        bot.start_background()
        runner, url = await serve(bot.web)
        full = await measure(url, response_url, args)
        await asyncio.sleep(1)
        await runner.cleanup()
        await bot.stop()

    header = ("server", "closed-loop req/s", "open-loop p50 ms", "p99 ms", "failures")
    print(f"{header[0]:<8}{header[1]:>20}{header[2]:>18}{header[3]:>10}{header[4]:>10}")
    for name, result in (("bare", bare), ("full", full)):
        closed, opened = result["closed"], result["open"]
        failures = closed["failures"] + opened["failures"]
        print(
            f"{name:<8}{closed['rate']:>20.0f}{opened['p50_ms']:>18.1f}"
            f"{opened['p99_ms']:>10.1f}{failures:>10}"
        )
    ratio = full["closed"]["rate"] / bare["closed"]["rate"]
    print(
        f"ratio full/bare: {ratio:.2f} (open loop at {args.rate:.0f} req/s for "
        f"{args.seconds:.0f} s; answers delivered to the fake Slack: {len(fake.responses)})"
    )
    await fake_runner.cleanup()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument(
        "--database", default=None, help="database URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--full-only", action="store_true", help="skip the bare bolt run")
    parser.add_argument("--client", nargs=3, metavar=("URL", "RESPONSE_URL", "MODE"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.client:
        target, reply_url, load_mode = arguments.client
        outcome = asyncio.run(
            load(
                target,
                reply_url,
                load_mode,
                arguments.seconds,
                arguments.concurrency,
                arguments.rate,
            )
        )
        print(json.dumps(outcome))
    else:
        asyncio.run(main(arguments))
