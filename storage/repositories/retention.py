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
        settled = InboxEvent.status != InboxStatus.PENDING
        return await self._prune(
            InboxEvent.payload,
            InboxEvent.received_at,
            settled,
            PRUNED_EVENT,
            before=before,
            after_id=after_id,
            limit=limit,
        )

    async def prune_outbox(self, *, before: datetime, after_id: int, limit: int) -> list[int]:
        """Prune the next settled messages created before `before`; their ids."""
        settled = OutboxMessage.status.in_(_OUTBOX_SETTLED)
        return await self._prune(
            OutboxMessage.message,
            OutboxMessage.created_at,
            settled,
            PRUNED_MESSAGE,
            before=before,
            after_id=after_id,
            limit=limit,
        )

    async def _prune(
        self,
        column: Any,
        stamp: Any,
        settled: Any,
        marker: dict[str, Any],
        *,
        before: datetime,
        after_id: int,
        limit: int,
    ) -> list[int]:
        """Replace `column` with `marker` on the rows after `after_id` up to the first that
        must stay (too new or not settled); their ids."""
        table = column.class_
        rows = await self._session.execute(
            select(table.id, (stamp < before) & settled)
            .where(table.id > after_id)
            .order_by(table.id)
            .limit(limit)
        )
        ids = _leading([(id_, bool(prunable)) for id_, prunable in rows])
        if ids:
            await self._session.execute(
                update(table).where(table.id.in_(ids)).values({column.key: marker})
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
