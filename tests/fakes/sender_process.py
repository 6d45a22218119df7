"""The bot's outbox sender in a process of its own, to kill with SIGKILL mid-drain.

`child_sender` is the target of a spawned process: a real `CohortBot` on a SQLite file
queues bulk DMs (or none), runs its sender until the outbox has nothing pending or in
flight, and exits. The parent serves the fake platform (`serve`), so what reached it
outlives the child; it may SIGKILL the child at any moment and start another one on the
same file to finish the queue. Used by tests/adapters/*/test_*_crash.py and
benchmarks/delivery.py.

The bot runs on the shipped app.yaml (workspace pacing on, the real system clock), with
the platform settings given as environment variables: Slack's from `slack_environ`;
Teams needs none (emulator mode, on loopback) as its people are reached through the
stored references of their personal chats (`teams_people`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.app import CohortBot
from bot.config import AppConfig, parse_config
from bot.model.messages import AudienceKind, Message, Section, Target
from bot.runtime.effects import Effects
from storage.db import create_engine, session_factory
from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.fakes.slack_api import TEAM, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
APP_YAML = ROOT / "app.yaml"
SECRET = "sender-process-signing-secret"
"""The Slack signing secret `slack_environ` configures."""
TOKEN = "xoxb-sender-process"
"""The Slack bot token `slack_environ` configures."""
CHUNK = 500
"""Rows queued per transaction by `enqueue_dms`."""
POLL_SECONDS = 0.5
CRASH_DMS = 150
"""DMs queued for a crash run."""
CRASH_LATENCY = 0.2
"""Seconds the fake takes over each call in a crash run: several are in flight at the kill."""
KILL_AT = 20
"""The accepted send whose answer the first sender of a crash run never gets."""
FIRST_KILL_WITHIN = 120.0
"""Seconds for the first child to start, queue the DMs and get KILL_AT sends accepted."""
SECOND_DONE_WITHIN = 120.0
"""Seconds for the second child to start and finish the queue (a loaded CI machine)."""
"""How often the child looks whether the outbox is empty."""


@dataclass(frozen=True)
class Recipients:
    """Who bulk DM number n goes to: `user_format.format(n)` on `platform`/`workspace`."""

    platform: str = "slack"
    workspace: str = TEAM
    user_format: str = "U{:05d}"
    service_url: str | None = None
    """Teams: each person wrote to the bot before, so their DM carries the stored reference
    of their personal chat `a:personal-<user id>` at this Bot Connector."""

    def user(self, n: int) -> str:
        return self.user_format.format(n)

    def target(self, n: int) -> Target:
        user = self.user(n)
        conversation = None
        if self.service_url is not None:
            conversation = {
                "user": {"id": user},
                "bot": {"id": "28:cohortbot", "name": "cohortbot"},
                "conversation": {
                    "id": personal_chat(user),
                    "conversationType": "personal",
                    "tenantId": self.workspace,
                },
                "channelId": "msteams",
                "serviceUrl": self.service_url,
            }
        return Target(
            platform=self.platform,
            workspace=self.workspace,
            kind=AudienceKind.DM,
            user_id=user,
            conversation=conversation,
        )


SLACK_PEOPLE = Recipients()
"""U00000, U00001, ... in the fake Slack's workspace; their DMs are D00000, ...."""
TEAMS_TENANT = "c2d5e7f1-3a4b-4c6d-8e9f-0a1b2c3d4e5f"


def teams_people(service_url: str) -> Recipients:
    """29:u00000, 29:u00001, ... in one tenant, each with a personal chat at `service_url`."""
    return Recipients("teams", TEAMS_TENANT, "29:u{:05d}", service_url)


def personal_chat(user_id: str) -> str:
    """The id of a Teams user's personal chat with the bot, as the fake connector names it."""
    return f"a:personal-{user_id}"


def slack_environ(api: str) -> dict[str, str]:
    """Slack on, against a fake Slack Web API served at `api` (e.g. http://127.0.0.1:1234)."""
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{api}/api/",
    }


def bot_config(
    database_url: str, environ: Mapping[str, str], *, config_file: Path = APP_YAML
) -> AppConfig:
    """The shipped configuration on `database_url`, with the platform settings `environ`."""
    return parse_config(
        config_file.read_text("utf-8"), environ={"DATABASE_URL": database_url, **environ}
    )


def slack_config(database_url: str, api: str) -> AppConfig:
    """A bot on `database_url` with Slack pointed at the fake Slack served at `api`."""
    return bot_config(database_url, slack_environ(api))


def dm_text(n: int) -> str:
    return f"DM {n}: reminder, the session starts at 15:00."


async def enqueue_dms(bot: CohortBot, count: int, recipients: Recipients = SLACK_PEOPLE) -> None:
    """Queue `count` bulk DMs through `Effects.queue`, DM n to `recipients.user(n)`."""
    now = bot.clock.now()
    for start in range(0, count, CHUNK):
        async with unit_of_work(bot.sessions) as uow:
            effects = Effects(uow, source=f"bulk:{start}", now=now, platforms=bot.platforms)
            for n in range(start, min(start + CHUNK, count)):
                await effects.queue(
                    recipients.target(n),
                    Message(text=dm_text(n), blocks=[Section(text=dm_text(n))]),
                )


def free_port() -> int:
    """A loopback port nothing listens on now (for a server started in another process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve an aiohttp app on a free loopback port; returns the runner and its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def child_sender(
    database_url: str,
    environ: dict[str, str],
    enqueue: int,
    recipients: Recipients = SLACK_PEOPLE,
) -> None:
    """In a spawned process: queue `enqueue` DMs (0 for none), then send until the queue
    is empty (pending and sending both 0) and exit."""
    asyncio.run(_child_sender(database_url, environ, enqueue, recipients))


async def _child_sender(
    database_url: str, environ: dict[str, str], enqueue: int, recipients: Recipients
) -> None:
    bot = CohortBot(bot_config(database_url, environ))
    try:
        await bot.prepare()
        if enqueue:
            await enqueue_dms(bot, enqueue, recipients)
        sender = asyncio.create_task(bot.sender.run())
        while True:
            await asyncio.sleep(POLL_SECONDS)
            async with unit_of_work(bot.sessions) as uow:
                depth = await uow.outbox.depth()
            if not depth.get("pending", 0) and not depth.get("sending", 0):
                break
        bot.sender.stop()
        await sender
    finally:
        await bot.stop()


def start_sender(
    database_url: str,
    environ: dict[str, str],
    enqueue: int = 0,
    recipients: Recipients = SLACK_PEOPLE,
) -> multiprocessing.process.BaseProcess:
    """A started 'spawn' child running `child_sender` (nothing inherited from this process).

    Daemonic: should the parent exit first, the child is terminated, not left behind.
    """
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=child_sender,
        args=(database_url, environ, enqueue, recipients),
        name="cohortbot-sender",
        daemon=True,
    )
    process.start()
    return process


def kill(process: multiprocessing.process.BaseProcess) -> bool:
    """SIGKILL `process` (no cleanup of any kind runs); False when it had already ended."""
    if process.pid is None or not process.is_alive():
        return False
    os.kill(process.pid, signal.SIGKILL)
    return True


async def wait_dead(process: multiprocessing.process.BaseProcess, give_up_after: float) -> bool:
    """Wait without blocking the event loop until `process` has ended (False: it has not)."""
    deadline = time.monotonic() + give_up_after
    while process.is_alive():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def wait_for_kill(
    process: multiprocessing.process.BaseProcess, killed: Callable[[], bool], give_up_after: float
) -> str | None:
    """Wait until `killed()` says something killed `process` (a fake, at the moment it
    chose); None when it did, else why it did not: the process ended by itself, or the
    time ran out."""
    deadline = time.monotonic() + give_up_after
    while not killed():
        if process.exitcode is not None:
            await asyncio.sleep(1.0)  # a kill on another thread may be about to say so
            if not killed():
                return f"the sender ended by itself with exit code {process.exitcode}"
        elif time.monotonic() > deadline:
            return f"the sender was not killed within {give_up_after:g} s"
        await asyncio.sleep(0.05)
    return None


async def wait_process(process: multiprocessing.process.BaseProcess, give_up_after: float) -> bool:
    """Wait for `process` to end by itself: True if it did, else it is killed and False."""
    await asyncio.to_thread(process.join, give_up_after)
    ended = not process.is_alive()
    if not ended:
        kill(process)
    process.join()
    return ended


async def outbox_rows(database_url: str) -> list[OutboxMessage]:
    """Every outbox row in the database, oldest first, read on a connection of its own."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(session_factory(engine)) as uow:
            rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            found = list(rows)
            uow.session.expunge_all()
        return found
    finally:
        await engine.dispose()


async def wait_for_posts(fake: FakeSlack, count: int, give_up_after: float) -> bool:
    """Wait until the fake accepted `count` chat.postMessage calls (False: not in time)."""
    deadline = time.monotonic() + give_up_after
    while len(fake.accepted_times) < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
