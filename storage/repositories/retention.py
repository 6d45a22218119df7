"""Pruning message payloads past their retention, oldest first, a batch at a time.

Rows stay (ids, status and times make the delivery log); only what people wrote and
what was sent to them goes. A watermark (the last id pruned) keeps each run to new rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxEvent, OutboxMessage
from storage.statuses import InboxStatus, OutboxStatus

PRUNED_EVENT: dict[str, Any] = {"pruned": True}
PRUNED_MESSAGE: dict[str, Any] = {
    "text": "(removed after its retention period)",
    "blocks": [],
    "pruned": True,
}
_OUTBOX_SETTLED = (OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.SUPERSEDED)


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def prune_inbox(self, *, before: datetime, after_id: int, limit: int) -> list[int]:
        """Prune the next processed events received before `before`; their ids."""
        rows = await self._session.execute(
            select(InboxEvent.id, InboxEvent.received_at, InboxEvent.status)
            .where(InboxEvent.id > after_id)
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        ids = _leading(
            [(id_, at < before and status != InboxStatus.PENDING) for id_, at, status in rows]
        )
        if ids:
            await self._session.execute(
                update(InboxEvent).where(InboxEvent.id.in_(ids)).values(payload=PRUNED_EVENT)
            )
        return ids

    async def prune_outbox(self, *, before: datetime, after_id: int, limit: int) -> list[int]:
        """Prune the next settled messages created before `before`; their ids."""
        rows = await self._session.execute(
            select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.status)
            .where(OutboxMessage.id > after_id)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        ids = _leading(
            [(id_, at < before and status in _OUTBOX_SETTLED) for id_, at, status in rows]
        )
        if ids:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(message=PRUNED_MESSAGE)
            )
        return ids


def _leading(rows: list[tuple[int, bool]]) -> list[int]:
    """The ids up to the first row that must stay: the watermark never passes it."""
    ids = []
    for id_, prunable in rows:
        if not prunable:
            break
        ids.append(id_)
    return ids
