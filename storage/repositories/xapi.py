"""The xAPI queue: statements waiting for the Learning Record Store, sent, or failed.

Finding what to queue is an anti-join (mapped activity with no queue row yet) over a
window of recent activity ids, not an "id greater than the last one seen" cursor: on
PostgreSQL an id is taken when a row is inserted but becomes visible only when its
transaction commits, so a row with a lower id can appear after a higher one was read.
The window reaches `window` ids below the newest queued one, far more than can commit
out of order in the few seconds a transaction lasts here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, XapiStatement
from storage.statuses import StatementStatus, move


class XapiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def unqueued(self, verbs: Collection[str], *, window: int, limit: int) -> list[Activity]:
        """Mapped activity (a verb in `verbs`, a person and a cohort) not queued yet."""
        newest = await self._session.scalar(select(func.max(XapiStatement.activity_id)))
        queued = exists().where(XapiStatement.activity_id == Activity.id)
        statement = (
            select(Activity)
            .where(Activity.id > (newest or 0) - window, *_mapped(verbs), ~queued)
            .order_by(Activity.id)
            .limit(limit)
        )
        return list(await self._session.scalars(statement))

    async def mapped(
        self,
        verbs: Collection[str],
        *,
        after_id: int,
        limit: int,
        cohort_id: int | None = None,
    ) -> list[Activity]:
        """Mapped activity after `after_id`, queued or not, in id order (for exports)."""
        statement = (
            select(Activity)
            .where(Activity.id > after_id, *_mapped(verbs))
            .order_by(Activity.id)
            .limit(limit)
        )
        if cohort_id is not None:
            statement = statement.where(Activity.cohort_id == cohort_id)
        return list(await self._session.scalars(statement))

    async def enqueue(self, rows: Sequence[dict[str, Any]], *, now: datetime) -> int:
        """Queue statements (activity_id, statement_id, statement); returns how many were new.

        A row already queued, by this process or another replica, is left as it is.
        """
        if not rows:
            return 0
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = [
            {
                **row,
                "status": StatementStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for row in rows
        ]
        result = await self._session.execute(
            insert(XapiStatement)
            .values(values)
            .on_conflict_do_nothing(index_elements=["activity_id"])
            .returning(XapiStatement.id)
        )
        return len(result.all())

    async def claim(
        self, now: datetime, *, limit: int, lease_until: datetime
    ) -> list[XapiStatement]:
        """Lease the next due statements to this sender, oldest first.

        A leased row is `sending` until `lease_until`; if its sender dies it becomes due
        again then. Rows another transaction is claiming are skipped (PostgreSQL).
        """
        due = or_(
            XapiStatement.status == StatementStatus.PENDING,
            XapiStatement.status == StatementStatus.SENDING,
        )
        rows = list(
            await self._session.scalars(
                select(XapiStatement)
                .where(due, XapiStatement.next_attempt_at <= now)
                .order_by(XapiStatement.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            move(row, StatementStatus.SENDING)
            row.next_attempt_at = lease_until
        await self._session.flush()
        return rows

    async def settle(self, changes: list[dict[str, Any]]) -> None:
        """Write outcomes (id plus the changed columns), all in one statement."""
        if changes:
            await self._session.execute(update(XapiStatement), changes)

    async def depth(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(XapiStatement.status, func.count(XapiStatement.id)).group_by(
                XapiStatement.status
            )
        )
        return {status: int(count) for status, count in rows}

    async def failed(self, limit: int = 50) -> list[XapiStatement]:
        rows = await self._session.scalars(
            select(XapiStatement)
            .where(XapiStatement.status == StatementStatus.FAILED)
            .order_by(XapiStatement.id.desc())
            .limit(limit)
        )
        return list(rows)


def _mapped(verbs: Collection[str]) -> list[ColumnElement[bool]]:
    """Entries that make a statement: a mapped verb, someone who did it, and a cohort."""
    return [
        Activity.verb.in_(list(verbs)),
        Activity.person_id.is_not(None),
        Activity.cohort_id.is_not(None),
    ]
