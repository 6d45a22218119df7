"""The inbox: inbound events recorded once, then processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxEvent
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
                "status": "pending",
                "attempts": 0,
                "received_at": now,
            },
            conflict_columns=("platform", "event_id"),
        )

    async def claim(self, inbox_id: int) -> InboxEvent | None:
        """The pending event, row-locked on PostgreSQL so two replicas never process it twice."""
        return await self._session.scalar(
            select(InboxEvent)
            .where(InboxEvent.id == inbox_id, InboxEvent.status == "pending")
            .with_for_update(skip_locked=True)
        )

    async def pending_ids(self, limit: int = 1000) -> list[int]:
        rows = await self._session.scalars(
            select(InboxEvent.id)
            .where(InboxEvent.status == "pending")
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        return list(rows)

    async def count(self, status: str | None = None) -> int:
        statement = select(func.count(InboxEvent.id))
        if status is not None:
            statement = statement.where(InboxEvent.status == status)
        return int(await self._session.scalar(statement) or 0)
