"""The outbox: messages waiting for delivery, sent, or dead-lettered."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.statuses import DeliveryClass, OutboxStatus
from storage.upsert import insert_ignoring_conflict, insert_many_ignoring_conflict


@dataclass(frozen=True)
class OutboxRow:
    """One message to queue, as the outbox stores it."""

    idempotency_key: str
    platform: str
    workspace: str
    lane: str
    target: dict[str, Any]
    message: dict[str, Any]
    now: datetime
    person_id: int | None = None
    ref_key: str | None = None
    update_of_key: str | None = None
    delivery_class: str = DeliveryClass.BULK
    fair_key: str = ""
    reply_to_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.idempotency_key,
            "platform": self.platform,
            "workspace": self.workspace,
            "lane": self.lane,
            "person_id": self.person_id,
            "target": self.target,
            "message": self.message,
            "ref_key": self.ref_key,
            "update_of_key": self.update_of_key,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": self.now,
            "created_at": self.now,
            "delivery_class": self.delivery_class,
            "fair_key": self.fair_key,
            "reply_to_at": self.reply_to_at,
        }


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, row: OutboxRow) -> int | None:
        """Queue a message; None when the same idempotency key was queued before."""
        return await insert_ignoring_conflict(
            self._session, OutboxMessage, row.values(), conflict_columns=("idempotency_key",)
        )

    async def pending(self, limit: int) -> list[OutboxMessage]:
        """Pending rows in queue order (due or not: a waiting row holds its lane)."""
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(rows)

    async def ready(
        self,
        now: datetime,
        limit: int,
        *,
        held_workspaces: Collection[tuple[str, str]] = (),
    ) -> list[OutboxMessage]:
        """The first waiting row of each lane that may go now, in the order to send them.

        A lane's rows go one after another: a lane whose first row is in flight or waits for
        a retry offers nothing. Replies come first; bulk rows take turns between fair keys
        (cohorts), each key's rows in queue order. Rows of held workspaces ((platform,
        workspace) pairs) are left out, except replies (some do not spend the budget).
        """
        heads = (
            select(func.min(OutboxMessage.id))
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
            .group_by(OutboxMessage.lane)
        )
        turn = (
            func.row_number()
            .over(
                partition_by=(OutboxMessage.delivery_class, OutboxMessage.fair_key),
                order_by=OutboxMessage.id,
            )
            .label("turn")
        )
        due = select(OutboxMessage.id, turn).where(
            OutboxMessage.id.in_(heads),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        if held_workspaces:
            due = due.where(
                or_(
                    tuple_(OutboxMessage.platform, OutboxMessage.workspace).not_in(
                        [tuple_(platform, workspace) for platform, workspace in held_workspaces]
                    ),
                    OutboxMessage.delivery_class == DeliveryClass.REPLY,
                )
            )
        ranked = due.subquery()
        replies_first = case((OutboxMessage.delivery_class == DeliveryClass.REPLY, 0), else_=1)
        statement = (
            select(OutboxMessage)
            .join(ranked, ranked.c.id == OutboxMessage.id)
            .order_by(replies_first, ranked.c.turn, OutboxMessage.id)
            .limit(limit)
        )
        return list(await self._session.scalars(statement))

    async def claim(self, ids: Collection[int]) -> set[int]:
        """Mark waiting rows as being sent, so a restart knows which ones were in flight.

        Returns the ids claimed: a row superseded meanwhile is not.
        """
        if not ids:
            return set()
        claimed = await self._session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING)
            .returning(OutboxMessage.id)
        )
        return set(claimed)

    async def in_flight(self) -> list[OutboxMessage]:
        """Rows a sender claimed and never settled: it died mid-send."""
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING)
            .order_by(OutboxMessage.id)
        )
        return list(rows)

    async def supersede_older_updates(self, row: OutboxMessage) -> int:
        """Drop `row` and every waiting update of the same message before the latest one.

        Several pending updates of one message coalesce: only the newest is sent.
        """
        if row.update_of_key is None:
            return 0
        newest = await self._session.scalar(
            select(func.max(OutboxMessage.id)).where(
                OutboxMessage.lane == row.lane,
                OutboxMessage.update_of_key == row.update_of_key,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
        if newest is None or newest <= row.id:
            return 0
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.lane == row.lane,
                OutboxMessage.update_of_key == row.update_of_key,
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                OutboxMessage.id < newest,
            )
            .values(status=OutboxStatus.SUPERSEDED)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult

    async def depth_by_class(self) -> list[tuple[str, str, str, int]]:
        """(platform, workspace, class, rows waiting) for every queue that has any."""
        rows = await self._session.execute(
            select(
                OutboxMessage.platform,
                OutboxMessage.workspace,
                OutboxMessage.delivery_class,
                func.count(OutboxMessage.id),
            )
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
            .group_by(OutboxMessage.platform, OutboxMessage.workspace, OutboxMessage.delivery_class)
        )
        return [
            (platform, workspace, kind, int(count)) for platform, workspace, kind, count in rows
        ]

    async def next_retry(self) -> datetime | None:
        """When the earliest waiting row becomes due."""
        return await self._session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )

    async def settle(self, changes: list[dict[str, Any]]) -> None:
        """Write delivery outcomes (id plus the changed columns), all in one statement."""
        if changes:
            await self._session.execute(update(OutboxMessage), changes)

    async def get(self, outbox_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, outbox_id)

    async def sent_ref(self, ref_key: str, platform: str, lane: str) -> tuple[str, str] | None:
        """(status, platform reference) of the latest message sent under a logical key."""
        row = (
            await self._session.execute(
                select(OutboxMessage.status, OutboxMessage.platform_ref)
                .where(
                    OutboxMessage.ref_key == ref_key,
                    OutboxMessage.platform == platform,
                    OutboxMessage.lane == lane,
                    OutboxMessage.update_of_key.is_(None),
                )
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (row[0], row[1] or "")

    async def refs(self, ref_key: str) -> list[OutboxMessage]:
        """The originals (not updates) sent under a logical key, one per platform channel."""
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.ref_key == ref_key, OutboxMessage.update_of_key.is_(None))
            .order_by(OutboxMessage.id)
        )
        return list(rows)

    async def depth(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        )
        return {status: int(count) for status, count in rows}

    async def for_person(self, person_id: int, limit: int = 50) -> list[OutboxMessage]:
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.person_id == person_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def count_for_person(self, person_id: int) -> int:
        """How many messages were ever queued for the person."""
        return int(
            await self._session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.person_id == person_id)
            )
            or 0
        )

    async def dead_letters(self, limit: int = 50) -> list[OutboxMessage]:
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DEAD)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def enqueue_many(self, rows: Sequence[OutboxRow]) -> list[int]:
        """Queue many messages at once; returns the ids of those whose key was new."""
        new_ids = await insert_many_ignoring_conflict(
            self._session,
            OutboxMessage,
            [row.values() for row in rows],
            conflict_columns=("idempotency_key",),
        )
        return sorted(new_ids)
