"""The inbox: inbound events recorded once, then processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxEvent
from storage.statuses import InboxStatus
from storage.upsert import insert_ignoring_conflict


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, *, platform: str, event_id: str, payload: dict[str, Any], now: datetime
    ) -> int | None:
        """Record an event; None when this platform event id was seen before."""
        return await insert_ignoring_conflict(
            self._session,
            InboxEvent,
            {
                "platform": platform,
                "event_id": event_id,
                "payload": payload,
                "status": InboxStatus.PENDING,
                "attempts": 0,
                "received_at": now,
            },
            conflict_columns=("platform", "event_id"),
        )

    async def record_many(
        self, rows: list[tuple[str, str, dict[str, Any]]], *, now: datetime
    ) -> list[int | None]:
        """Record (platform, event id, payload) rows in one statement; None marks a repeat."""
        if not rows:
            return []
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(InboxEvent)
            .values(
                [
                    {
                        "platform": platform,
                        "event_id": event_id,
                        "payload": payload,
                        "status": InboxStatus.PENDING,
                        "attempts": 0,
                        "received_at": now,
                    }
                    for platform, event_id, payload in rows
                ]
            )
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(InboxEvent.id, InboxEvent.platform, InboxEvent.event_id)
        )
        created = {(p, e): i for i, p, e in (await self._session.execute(statement)).all()}
        # A repeat inside the batch itself: only its first occurrence is new.
        seen: set[tuple[str, str]] = set()
        ids: list[int | None] = []
        for platform, event_id, _ in rows:
            key = (platform, event_id)
            ids.append(None if key in seen else created.get(key))
            seen.add(key)
        return ids

    async def claim(self, inbox_id: int) -> InboxEvent | None:
        """The pending event, row-locked on PostgreSQL so two replicas never process it twice."""
        return await self._session.scalar(
            select(InboxEvent)
            .where(InboxEvent.id == inbox_id, InboxEvent.status == InboxStatus.PENDING)
            .with_for_update(skip_locked=True)
        )

    async def is_pending(self, inbox_id: int) -> bool:
        """Still waiting to be processed (read without taking its lock)."""
        status = await self._session.scalar(
            select(InboxEvent.status).where(InboxEvent.id == inbox_id)
        )
        return status == InboxStatus.PENDING

    async def pending_ids(self, limit: int = 1000) -> list[int]:
        rows = await self._session.scalars(
            select(InboxEvent.id)
            .where(InboxEvent.status == InboxStatus.PENDING)
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        return list(rows)

    async def count(self, status: str | None = None) -> int:
        statement = select(func.count(InboxEvent.id))
        if status is not None:
            statement = statement.where(InboxEvent.status == status)
        return int(await self._session.scalar(statement) or 0)
