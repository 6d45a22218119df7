"""Delivery of learning records: queue new activity, POST it in batches, settle outcomes.

Each run first queues mapped activity that has no queue row yet, then leases due rows
batch by batch and POSTs them. A stored batch is `sent`; a 409 on one statement means
the LRS has it already, so it is `sent` too. An LRS that is down (429, 5xx, no
connection) ends the run and the batch waits with exponential backoff and jitter; nothing
is dropped. A batch the LRS refuses (400) is split in halves until the statements it
objects to are alone: those become `failed` with the LRS's reason, the rest go on.

No database transaction stays open while the LRS is called: rows are leased (`sending`
until a deadline) in one short transaction and settled in another. A process that dies
in between leaves them leased; they fall due again when the lease runs out and are resent
under the same statement ids, which the LRS recognises as duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import AppConfig
from bot.runtime.backoff import backoff_seconds
from bot.runtime.clock import Clock
from bot.runtime.scheduler import TaskContext, TaskHandler, Timers
from bot.xapi.lrs import Answer, LrsClient, PostResult
from bot.xapi.source import load_vocabulary, statements_for
from bot.xapi.statements import MAPPED_VERBS
from storage.db import SessionFactory
from storage.models import XapiStatement
from storage.statuses import StatementStatus
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

TASK = "xapi.deliver"
TIMER_KEY = "xapi.deliver"
QUEUE_CHUNK = 500
ERROR_LIMIT = 2000


@dataclass
class DeliveryReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    posts: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    row_id: int
    status: str
    error: str | None = None
    retry_after: float | None = None


class XapiDelivery:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        config: AppConfig,
        client: LrsClient,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self._xapi = config.xapi
        self._client = client
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Long enough for a batch split down to one statement, each POST at its timeout.
        self._lease = timedelta(
            seconds=self._xapi.timeout_seconds * (2 * self._xapi.batch_size.bit_length() + 1)
        )
        self._requested = asyncio.Event()
        self._stopping = asyncio.Event()

    # Triggers: the scheduled task asks, the loop (or `settle` in tests) delivers.

    def request(self) -> None:
        """Ask for a run; the delivery loop does it outside the caller's transaction."""
        self._requested.set()

    async def run(self) -> None:
        """Deliver whenever a run is requested, until stopped."""
        while not self._stopping.is_set():
            waiter = asyncio.create_task(self._requested.wait())
            stopper = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({waiter, stopper}, return_when="FIRST_COMPLETED")
            waiter.cancel()
            stopper.cancel()
            if self._stopping.is_set():
                break
            await self.run_requested()

    async def run_requested(self) -> bool:
        """Run once if a run was requested; False when none was."""
        if not self._requested.is_set():
            return False
        self._requested.clear()
        try:
            await self.deliver_due()
        except Exception:
            log.exception("xapi delivery failed")
        return True

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self._client.close()

    # The work itself.

    async def deliver_due(self) -> DeliveryReport:
        """Queue new activity, then send what is due until nothing is left or the LRS is down."""
        report = DeliveryReport(queued=await self.enqueue_new())
        while True:
            now = self._clock.now()
            async with unit_of_work(self._sessions) as uow:
                rows = await uow.xapi.claim(
                    now, limit=self._xapi.batch_size, lease_until=now + self._lease
                )
                uow.session.expunge_all()
            if not rows:
                return report
            outcomes = await self._send(rows, report)
            await self._settle(rows, outcomes, report)
            if any(outcome.status == StatementStatus.PENDING for outcome in outcomes):
                return report  # the LRS is unavailable: the rest waits for the next run

    async def enqueue_new(self) -> int:
        """Queue every mapped activity entry that has no statement row yet."""
        queued = 0
        while True:
            now = self._clock.now()
            async with unit_of_work(self._sessions) as uow:
                vocabulary = await load_vocabulary(uow, self._config, now=now)
                entries = await uow.xapi.unqueued(
                    MAPPED_VERBS, window=self._xapi.rescan_window, limit=QUEUE_CHUNK
                )
                built = await statements_for(uow, entries, vocabulary)
                queued += await uow.xapi.enqueue(
                    [
                        {
                            "activity_id": entry.id,
                            "statement_id": statement["id"],
                            "statement": statement,
                        }
                        for entry, statement in built
                    ],
                    now=now,
                )
            if len(entries) < QUEUE_CHUNK or not built:
                return queued

    async def _send(self, rows: Sequence[XapiStatement], report: DeliveryReport) -> list[_Outcome]:
        """POST the rows; on a refusal, halve the batch until each problem is alone."""
        result = await self._client.post([row.statement for row in rows])
        report.posts += 1
        if result.answer is Answer.STORED:
            return [_Outcome(row.id, StatementStatus.SENT) for row in rows]
        if result.answer is Answer.UNAVAILABLE:
            return self._unavailable(rows, result)
        if len(rows) == 1:
            return [self._single_refusal(rows[0], result)]
        middle = len(rows) // 2
        first = await self._send(rows[:middle], report)
        if any(outcome.status == StatementStatus.PENDING for outcome in first):
            # The LRS went away half way: the second half waits with the first.
            return first + self._unavailable(rows[middle:], None)
        return first + await self._send(rows[middle:], report)

    def _single_refusal(self, row: XapiStatement, result: PostResult) -> _Outcome:
        if result.answer is Answer.CONFLICT:
            # The LRS keeps a statement under this id, and ids derive from our activity
            # rows: it is this record, sent before (an answer lost to a restart, say).
            # Sending it again can never change what the LRS holds.
            return _Outcome(row.id, StatementStatus.SENT, error=result.detail)
        log.warning(
            "xapi statement refused by the LRS",
            extra={"statement_id": row.statement_id, "activity_id": row.activity_id},
        )
        return _Outcome(row.id, StatementStatus.FAILED, error=result.detail)

    @staticmethod
    def _unavailable(rows: Sequence[XapiStatement], result: PostResult | None) -> list[_Outcome]:
        error = result.detail if result else "not sent: the LRS became unavailable"
        retry_after = result.retry_after if result else None
        return [
            _Outcome(row.id, StatementStatus.PENDING, error=error, retry_after=retry_after)
            for row in rows
        ]

    async def _settle(
        self, rows: Sequence[XapiStatement], outcomes: list[_Outcome], report: DeliveryReport
    ) -> None:
        now = self._clock.now()
        by_id = {row.id: row for row in rows}
        changes: list[dict[str, Any]] = []
        for outcome in outcomes:
            row = by_id[outcome.row_id]
            change: dict[str, Any] = {
                "id": row.id,
                "status": outcome.status,
                "attempts": row.attempts + 1,
                "last_error": (outcome.error or "")[:ERROR_LIMIT] or None,
                "next_attempt_at": now,
            }
            if outcome.status == StatementStatus.SENT:
                change["sent_at"] = now
                report.sent += 1
            elif outcome.status == StatementStatus.FAILED:
                report.failed += 1
                report.errors.append(f"{row.statement_id}: {outcome.error}")
            else:
                change["next_attempt_at"] = self._retry_at(now, row.attempts + 1, outcome)
                report.retrying += 1
            changes.append(change)
        if report.retrying:
            log.warning(
                "xapi LRS unavailable; statements wait for a retry",
                extra={"count": report.retrying, "reason": outcomes[-1].error},
            )
        async with unit_of_work(self._sessions) as uow:
            await uow.xapi.settle(changes)

    def _retry_at(self, now: datetime, attempts: int, outcome: _Outcome) -> datetime:
        delay = backoff_seconds(
            attempts,
            base=self._xapi.base_backoff_seconds,
            maximum=self._xapi.max_backoff_seconds,
            rng=self._rng,
        )
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        return now + timedelta(seconds=delay)


def delivery_rule(config: AppConfig) -> dict[str, Any]:
    """Every `every_minutes` minutes, as a cron rule the scheduler stores."""
    minutes = config.xapi.every_minutes
    return {"kind": "cron", "fields": {"minute": "*" if minutes == 1 else f"*/{minutes}"}}


async def install_timer(uow: UnitOfWork, config: AppConfig, *, now: datetime) -> None:
    """The repeating delivery timer while an LRS is configured; none otherwise."""
    timers = Timers(uow, now)
    if config.xapi.enabled:
        await timers.ensure_repeating(
            key=TIMER_KEY, task=TASK, rule=delivery_rule(config), time_zone="UTC"
        )
    else:
        await timers.cancel(TIMER_KEY)


def task_handler(delivery: XapiDelivery | None) -> TaskHandler:
    """The scheduled task: each occurrence is claimed by one replica, which asks for a run."""

    async def handle(_task: TaskContext) -> None:
        if delivery is not None:
            delivery.request()

    return handle
