"""The scheduler: persisted timers in the database, APScheduler as the in-process ticker.

Every occurrence is claimed under a unique (item key, occurrence time) before it runs, in
the same transaction as its effects, so restarts, catch-up after downtime and a second
process on the same PostgreSQL database never run it twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from bot.runtime.clock import Clock
from bot.runtime.effects import Effects
from bot.runtime.recurrence import next_after
from storage.db import SessionFactory
from storage.models import ScheduledItem
from storage.repositories.schedule import OneOff
from storage.statuses import TimerStatus, move
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)


Payload = TypeVar("Payload", bound=Mapping[str, Any])


class CohortTimer(TypedDict):
    """The payload of a timer about one cohort (its cadences and sweeps)."""

    cohort_id: int


@cache
def _adapter(shape: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def checked(shape: type[Payload], data: Mapping[str, Any]) -> Payload:
    """Stored JSON read as the TypedDict it was written as; raises when it does not fit.

    The shapes are `typing_extensions.TypedDict`s: pydantic reads only those on Python 3.11.
    """
    value: Payload = _adapter(shape).validate_python(data)
    return value


@dataclass
class TaskContext:
    uow: UnitOfWork
    effects: Effects
    payload: dict[str, Any]
    item_key: str
    occurrence_at: datetime
    now: datetime

    def payload_as(self, shape: type[Payload]) -> Payload:
        """The payload as the TypedDict its timer was set with."""
        return checked(shape, self.payload)


TaskHandler = Callable[[TaskContext], Awaitable[None]]


@dataclass
class TaskRegistry:
    """Named task handlers; a scheduled item names its task by string."""

    handlers: dict[str, TaskHandler] = field(default_factory=dict)

    def register(self, name: str, handler: TaskHandler) -> None:
        if name in self.handlers:
            raise ValueError(f"task {name!r} is registered twice")
        self.handlers[name] = handler


class Timers:
    """Intent-level timer API used inside a unit of work (by flows and commands)."""

    def __init__(self, uow: UnitOfWork, now: datetime) -> None:
        self._uow = uow
        self._now = now

    async def run_once(
        self, *, key: str, task: str, at: datetime, payload: Mapping[str, Any] | None = None
    ) -> None:
        await self._uow.schedule.put(
            key=key, task=task, due_at=at, payload=dict(payload or {}), now=self._now
        )

    async def run_once_many(self, timers: Sequence[OneOff]) -> None:
        """`run_once` for many timers at once (each created, or replaced by key)."""
        await self._uow.schedule.put_many(timers, now=self._now)

    async def run_once_unless_set(
        self, *, key: str, task: str, at: datetime, payload: Mapping[str, Any] | None = None
    ) -> bool:
        """A one-off timer that an existing one of the same key (even a past one) stands for."""
        return await self._uow.schedule.add_if_absent(
            key=key, task=task, due_at=at, payload=dict(payload or {}), now=self._now
        )

    async def run_repeating(
        self,
        *,
        key: str,
        task: str,
        rule: dict[str, Any],
        time_zone: str,
        payload: Mapping[str, Any] | None = None,
    ) -> datetime | None:
        """Start (or replace) a recurring timer; returns its first occurrence."""
        first = next_after(rule, time_zone, self._now)
        if first is None:
            return None
        await self._uow.schedule.put(
            key=key,
            task=task,
            due_at=first.astimezone(UTC),
            payload=dict(payload or {}),
            now=self._now,
            recurrence=rule,
            time_zone=time_zone,
        )
        return first

    async def ensure_repeating(
        self,
        *,
        key: str,
        task: str,
        rule: dict[str, Any],
        time_zone: str,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Start a recurring timer unless it already runs with this rule, zone and payload.

        Called at every start: an unchanged timer keeps its next occurrence, so one that
        fell due while the bot was down is still caught up (within the grace window).
        """
        current = await self._uow.schedule.get(key)
        if (
            current is not None
            and current.status == TimerStatus.ACTIVE
            and current.task == task
            and current.recurrence == rule
            and current.time_zone == time_zone
            and current.payload == (payload or {})
        ):
            return
        await self.run_repeating(
            key=key, task=task, rule=rule, time_zone=time_zone, payload=payload
        )

    async def cancel(self, key: str) -> bool:
        return await self._uow.schedule.cancel(key)

    async def cancel_prefix(self, prefix: str) -> int:
        return await self._uow.schedule.cancel_prefix(prefix)


class Scheduler:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        tasks: TaskRegistry,
        platforms: frozenset[str],
        node_id: str,
        grace: timedelta,
        tick_seconds: float = 1.0,
        on_effects: Callable[[], None] | None = None,
        group_platforms: frozenset[str] = frozenset(),
        concurrency: int = 1,
    ) -> None:
        self._sessions = sessions
        self._concurrency = concurrency
        self._group_platforms = group_platforms
        self._clock = clock
        self._tasks = tasks
        self._platforms = platforms
        self._node_id = node_id
        self._grace = grace
        self._tick_seconds = tick_seconds
        self._on_effects = on_effects
        self._ticker: AsyncIOScheduler | None = None
        self.lag_seconds = 0.0
        self.runs = 0

    def start(self) -> None:
        """Tick on APScheduler's interval trigger; one tick at a time, late ticks coalesced."""
        self._ticker = AsyncIOScheduler(timezone=UTC)
        self._ticker.add_job(
            self.tick,
            IntervalTrigger(seconds=self._tick_seconds),
            id="cohortbot.scheduler.tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._ticker.start()

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.shutdown(wait=False)
            self._ticker = None

    async def tick(self) -> int:
        """Run every occurrence due now; returns how many ran."""
        ran = 0
        while True:
            now = self._clock.now()
            async with unit_of_work(self._sessions) as uow:
                due = [
                    (item.id, item.key, item.payload.get("cohort_id"))
                    for item in await uow.schedule.due(now)
                ]
            if not due:
                self.lag_seconds = 0.0
                return ran
            outcomes = await self._run_due(due, now)
            ran += outcomes.count("done")
            if all(outcome == "skipped" for outcome in outcomes):
                return ran

    async def _run_due(self, due: list[tuple[int, str, object]], now: datetime) -> list[str]:
        """Each cohort's timers in order; different cohorts side by side, up to `concurrency`.

        One cohort's timers may touch the same rows (its round, its people), so they never
        overlap; another cohort's share nothing with them, and on PostgreSQL running them
        together keeps the database busy while Python prepares the next transaction.
        """
        if self._concurrency <= 1:
            return [await self._run_guarded(item_id, key, now) for item_id, key, _ in due]
        queues: dict[object, list[tuple[int, str]]] = {}
        for item_id, key, cohort_id in due:
            lane = cohort_id if isinstance(cohort_id, int) else ("timer", item_id)
            queues.setdefault(lane, []).append((item_id, key))
        slots = asyncio.Semaphore(self._concurrency)
        outcomes: list[str] = []

        async def run_lane(items: list[tuple[int, str]]) -> None:
            async with slots:
                for item_id, key in items:
                    outcomes.append(await self._run_guarded(item_id, key, now))

        await asyncio.gather(*(run_lane(items) for items in queues.values()))
        return outcomes

    async def _run_guarded(self, item_id: int, key: str, now: datetime) -> str:
        try:
            return await self._run_item(item_id, now)
        except Exception:
            log.exception("scheduled task failed", extra={"item_key": key})
            await self._record_failure(item_id, now)
            return "failed"

    async def _run_item(self, item_id: int, now: datetime) -> str:
        async with unit_of_work(self._sessions) as uow:
            item = await uow.schedule.lock(item_id)
            if item is None or item.due_at > now:
                return "skipped"
            self.lag_seconds = max(self.lag_seconds, (now - item.due_at).total_seconds())
            occurrence = self._latest_due(item, now)
            # A late one-off (a reminder) still matters; a late repetition (Monday's
            # check-in on Thursday) does not: past the grace window it is skipped.
            missed = item.recurrence is not None and now - occurrence > self._grace
            claimed = await uow.schedule.claim(
                item_key=item.key,
                occurrence_at=occurrence,
                claimed_by=self._node_id,
                now=now,
                outcome="missed" if missed else "done",
            )
            if claimed and not missed:
                await self._invoke(uow, item, occurrence, now)
            elif missed:
                log.warning("occurrence missed beyond grace", extra={"item_key": item.key})
            self._advance(item, occurrence)
        if claimed and not missed and self._on_effects is not None:
            self._on_effects()
        self.runs += int(claimed and not missed)
        return "done" if claimed and not missed else "advanced"

    async def _invoke(
        self, uow: UnitOfWork, item: ScheduledItem, occurrence: datetime, now: datetime
    ) -> None:
        handler = self._tasks.handlers.get(item.task)
        if handler is None:
            raise LookupError(f"no handler for task {item.task!r}")
        source = f"task:{item.key}@{occurrence.isoformat()}"
        effects = Effects(
            uow,
            source=source,
            now=now,
            platforms=self._platforms,
            group_platforms=self._group_platforms,
        )
        cohort_id = item.payload.get("cohort_id")
        if isinstance(cohort_id, int):
            effects.for_cohort(cohort_id)
        await handler(
            TaskContext(
                uow=uow,
                effects=effects,
                payload=dict(item.payload),
                item_key=item.key,
                occurrence_at=occurrence,
                now=now,
            )
        )

    @staticmethod
    def _latest_due(item: ScheduledItem, now: datetime) -> datetime:
        """A repeating timer that fell behind runs once, for its latest due occurrence.

        The ones before it are stale (a quarter-hourly sweep after a day of downtime), so
        they are passed over rather than claimed one transaction at a time.
        """
        latest = item.due_at
        if item.recurrence is None:
            return latest
        while (following := next_after(item.recurrence, item.time_zone, latest)) is not None:
            if following > now:
                break
            latest = following.astimezone(UTC)
        return latest

    @staticmethod
    def _advance(item: ScheduledItem, occurrence: datetime) -> None:
        """Move the timer past the occurrence that ran: done, or on to its next one.

        A task may cancel its own timer or set it again for later (a flow waiting once
        more); then it stays as the task left it.
        """
        if item.status != TimerStatus.ACTIVE or item.due_at > occurrence:
            return
        if item.recurrence is None:
            move(item, TimerStatus.DONE)
            return
        following = next_after(item.recurrence, item.time_zone, occurrence)
        if following is None:
            move(item, TimerStatus.DONE)
        else:
            item.due_at = following.astimezone(UTC)

    async def _record_failure(self, item_id: int, now: datetime) -> None:
        """A failing task is claimed as failed and moved on, so it cannot loop forever."""
        async with unit_of_work(self._sessions) as uow:
            item = await uow.schedule.lock(item_id)
            if item is None:
                return
            await uow.schedule.claim(
                item_key=item.key,
                occurrence_at=item.due_at,
                claimed_by=self._node_id,
                now=now,
                outcome="failed",
            )
            self._advance(item, item.due_at)
