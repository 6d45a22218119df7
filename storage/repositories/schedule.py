"""Persisted timers and the claims that make each occurrence run once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OccurrenceClaim, ScheduledItem
from storage.statuses import TimerStatus, move
from storage.upsert import insert_ignoring_conflict, upsert_many

PREFIXES_PER_STATEMENT = 200
"""Keeps `cancel_prefixes`' OR chain well inside SQLite's expression depth limit (1,000)."""


@dataclass(frozen=True)
class OneOff:
    """A one-off timer to set: its stable key, task, due time and payload."""

    key: str
    task: str
    due_at: datetime
    payload: dict[str, Any]


class ScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(
        self,
        *,
        key: str,
        task: str,
        due_at: datetime,
        payload: dict[str, Any],
        now: datetime,
        recurrence: dict[str, Any] | None = None,
        time_zone: str = "UTC",
    ) -> ScheduledItem:
        """Create or replace the timer with this key (the key is the timer's stable id)."""
        item = await self._session.scalar(select(ScheduledItem).where(ScheduledItem.key == key))
        if item is None:
            item = ScheduledItem(key=key, created_at=now)
            self._session.add(item)
        item.task, item.due_at, item.payload = task, due_at, payload
        item.recurrence, item.time_zone = recurrence, time_zone
        move(item, TimerStatus.ACTIVE)
        await self._session.flush()
        return item

    async def put_many(self, timers: Sequence[OneOff], *, now: datetime) -> None:
        """`put` many one-off timers in one statement (each created, or replaced by key)."""
        if not timers:
            return
        latest = {timer.key: timer for timer in timers}  # the last of a repeated key wins
        await upsert_many(
            self._session,
            ScheduledItem,
            [
                {
                    "key": timer.key,
                    "task": timer.task,
                    "due_at": timer.due_at,
                    "payload": dict(timer.payload),
                    "recurrence": None,
                    "time_zone": "UTC",
                    "status": TimerStatus.ACTIVE,
                    "created_at": now,
                }
                for timer in latest.values()
            ],
            conflict_columns=("key",),
            update_columns=("task", "due_at", "payload", "recurrence", "time_zone", "status"),
        )
        # A timer loaded earlier in this session (the one whose task is running, setting
        # itself again) must tell what was just written.
        for item in list(self._session.identity_map.values()):
            if isinstance(item, ScheduledItem) and item.key in latest:
                await self._session.refresh(item)

    async def add_if_absent(
        self, *, key: str, task: str, due_at: datetime, payload: dict[str, Any], now: datetime
    ) -> bool:
        """Create a one-off timer unless one with this key exists (in any state).

        Never updates or locks an existing row, so many transactions may call it for the
        same key at once without queueing on each other; True when this call created it.
        """
        created = await insert_ignoring_conflict(
            self._session,
            ScheduledItem,
            {
                "key": key,
                "task": task,
                "due_at": due_at,
                "payload": payload,
                "recurrence": None,
                "time_zone": "UTC",
                "status": TimerStatus.ACTIVE,
                "created_at": now,
            },
            conflict_columns=("key",),
        )
        return created is not None

    async def get(self, key: str) -> ScheduledItem | None:
        return await self._session.scalar(select(ScheduledItem).where(ScheduledItem.key == key))

    async def cancel(self, key: str) -> bool:
        result = await self._session.execute(
            update(ScheduledItem)
            .where(ScheduledItem.key == key, ScheduledItem.status == TimerStatus.ACTIVE)
            .values(status=TimerStatus.CANCELLED)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult

    async def cancel_prefix(self, prefix: str) -> int:
        result = await self._session.execute(
            update(ScheduledItem)
            .where(
                ScheduledItem.key.startswith(prefix, autoescape=True),
                ScheduledItem.status == TimerStatus.ACTIVE,
            )
            .values(status=TimerStatus.CANCELLED)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult

    async def cancel_prefixes(self, prefixes: Sequence[str]) -> int:
        """`cancel_prefix` for many prefixes, a few hundred to a statement."""
        cancelled = 0
        for start in range(0, len(prefixes), PREFIXES_PER_STATEMENT):
            chunk = prefixes[start : start + PREFIXES_PER_STATEMENT]
            result = await self._session.execute(
                update(ScheduledItem)
                .where(
                    or_(*(ScheduledItem.key.startswith(p, autoescape=True) for p in chunk)),
                    ScheduledItem.status == TimerStatus.ACTIVE,
                )
                .values(status=TimerStatus.CANCELLED)
            )
            cancelled += int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult
        return cancelled

    async def due(self, now: datetime, limit: int = 200) -> list[ScheduledItem]:
        rows = await self._session.scalars(
            select(ScheduledItem)
            .where(ScheduledItem.status == TimerStatus.ACTIVE, ScheduledItem.due_at <= now)
            .order_by(ScheduledItem.due_at, ScheduledItem.id)
            .limit(limit)
        )
        return list(rows)

    async def lock(self, item_id: int) -> ScheduledItem | None:
        return await self._session.scalar(
            select(ScheduledItem)
            .where(ScheduledItem.id == item_id, ScheduledItem.status == TimerStatus.ACTIVE)
            .with_for_update(skip_locked=True)
        )

    async def claim(
        self,
        *,
        item_key: str,
        occurrence_at: datetime,
        claimed_by: str,
        now: datetime,
        outcome: str,
    ) -> bool:
        """Claim one occurrence; False when another run (or process) already has it."""
        claimed = await insert_ignoring_conflict(
            self._session,
            OccurrenceClaim,
            {
                "item_key": item_key,
                "occurrence_at": occurrence_at,
                "claimed_by": claimed_by,
                "claimed_at": now,
                "outcome": outcome,
            },
            conflict_columns=("item_key", "occurrence_at"),
        )
        return claimed is not None

    async def claims(self, item_key: str) -> list[OccurrenceClaim]:
        rows = await self._session.scalars(
            select(OccurrenceClaim)
            .where(OccurrenceClaim.item_key == item_key)
            .order_by(OccurrenceClaim.occurrence_at)
        )
        return list(rows)

    async def next_due(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(ScheduledItem.due_at)).where(ScheduledItem.status == TimerStatus.ACTIVE)
        )
