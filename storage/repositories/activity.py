"""The append-only activity log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def append(
        self,
        *,
        verb: str,
        at: datetime,
        person_id: int | None = None,
        cohort_id: int | None = None,
        object_ref: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self._session.add(
            Activity(
                at=at,
                verb=verb,
                person_id=person_id,
                cohort_id=cohort_id,
                object=object_ref,
                data=data or {},
            )
        )

    async def append_for_each(
        self,
        *,
        verb: str,
        at: datetime,
        person_ids: Sequence[int],
        cohort_id: int | None = None,
        object_ref: str | None = None,
    ) -> None:
        """`append` the same entry once for each of these people, in order, in one statement."""
        if not person_ids:
            return
        # Entries appended before are flushed first (autoflush), so ids keep their order.
        await self._session.execute(
            insert(Activity),
            [
                {
                    "at": at,
                    "verb": verb,
                    "person_id": person_id,
                    "cohort_id": cohort_id,
                    "object": object_ref,
                    "data": {},
                }
                for person_id in person_ids
            ],
        )

    async def count(
        self, *, verb: str, cohort_id: int | None = None, person_id: int | None = None
    ) -> int:
        statement = select(func.count(Activity.id)).where(Activity.verb == verb)
        if cohort_id is not None:
            statement = statement.where(Activity.cohort_id == cohort_id)
        if person_id is not None:
            statement = statement.where(Activity.person_id == person_id)
        return int(await self._session.scalar(statement) or 0)

    async def counts(self, *, cohort_id: int, verbs: Sequence[str]) -> dict[str, int]:
        """How often each verb was logged in the cohort (verbs never logged count 0)."""
        rows = await self._session.execute(
            select(Activity.verb, func.count(Activity.id))
            .where(Activity.cohort_id == cohort_id, Activity.verb.in_(list(verbs)))
            .group_by(Activity.verb)
        )
        found = {str(verb): int(n) for verb, n in rows}
        return {verb: found.get(verb, 0) for verb in verbs}

    async def of_cohort(
        self, *, cohort_id: int, verb: str, person_id: int | None = None
    ) -> list[Activity]:
        """Every entry of one verb in the cohort (about one person, if given), oldest first."""
        statement = select(Activity).where(Activity.cohort_id == cohort_id, Activity.verb == verb)
        if person_id is not None:
            statement = statement.where(Activity.person_id == person_id)
        return list(await self._session.scalars(statement.order_by(Activity.at, Activity.id)))

    async def for_person(self, person_id: int, limit: int = 100) -> list[Activity]:
        rows = await self._session.scalars(
            select(Activity)
            .where(Activity.person_id == person_id)
            .order_by(Activity.at.desc(), Activity.id.desc())
            .limit(limit)
        )
        return list(rows)
