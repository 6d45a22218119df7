"""The daily pruning of message payloads past `retention.messages_days`.

A timer at `retention.prune_at_hour` (UTC) asks for a run; the run prunes in batches of
BATCH rows, each its own short transaction, so the event path never waits long behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import RetentionConfig
from bot.runtime.clock import Clock
from bot.runtime.scheduler import TaskContext, TaskHandler, Timers
from storage.db import SessionFactory
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

TASK = "retention.prune"
TIMER_KEY = "retention:daily"
BATCH = 500
WATERMARKS = {"inbox": "retention.inbox_upto", "outbox": "retention.outbox_upto"}


@dataclass(frozen=True)
class Pruned:
    inbox: int
    outbox: int
    seconds: float


class Pruner:
    def __init__(self, sessions: SessionFactory, clock: Clock, config: RetentionConfig) -> None:
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self._running: asyncio.Task[Pruned] | None = None

    def request(self) -> None:
        """Start a run unless one is going."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.run())

    async def wait(self) -> None:
        if self._running is not None:
            await self._running

    async def run(self) -> Pruned:
        """Prune everything past its retention now; how many rows of each table."""
        began = time.perf_counter()
        before = self._clock.now() - timedelta(days=self._config.messages_days)
        inbox = await self._prune("inbox", before)
        outbox = await self._prune("outbox", before)
        pruned = Pruned(inbox, outbox, time.perf_counter() - began)
        log.info(
            "message payloads pruned",
            extra={"inbox": pruned.inbox, "outbox": pruned.outbox, "seconds": pruned.seconds},
        )
        return pruned

    async def _prune(self, table: str, before: datetime) -> int:
        """Batches of one table, each its own transaction, until nothing is left to prune."""
        total = 0
        while True:
            async with unit_of_work(self._sessions) as uow:
                upto = int(await uow.settings.get(WATERMARKS[table]) or 0)
                batch = await _batch(uow, table, before=before, after_id=upto)
                if not batch:
                    return total
                await uow.settings.put(WATERMARKS[table], str(batch[-1]), now=self._clock.now())
            total += len(batch)


async def _batch(uow: UnitOfWork, table: str, *, before: datetime, after_id: int) -> list[int]:
    prune = uow.retention.prune_inbox if table == "inbox" else uow.retention.prune_outbox
    return await prune(before=before, after_id=after_id, limit=BATCH)


def daily_rule(config: RetentionConfig) -> dict[str, object]:
    return {"kind": "cron", "fields": {"hour": str(config.prune_at_hour), "minute": "0"}}


async def install_timer(uow: UnitOfWork, config: RetentionConfig, *, now: datetime) -> None:
    await Timers(uow, now).ensure_repeating(
        key=TIMER_KEY, task=TASK, rule=daily_rule(config), time_zone="UTC"
    )


def task_handler(pruner: Pruner) -> TaskHandler:
    """Each day's occurrence is claimed by one replica, which starts a run."""

    async def handle(_task: TaskContext) -> None:
        pruner.request()

    return handle
