"""Reads of the activity log for KPIs and exports: one query per cohort, newest last."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, Cohort

_EXPORT_BATCH = 2000


@dataclass(frozen=True)
class LoggedEvent:
    """One activity row, as the KPI calculations need it."""

    verb: str
    person_id: int | None
    at: datetime
    object: str | None
    data: dict[str, Any]


class KpiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def events(
        self,
        cohort_id: int,
        *,
        verbs: Collection[str],
        until: datetime,
        with_data: Collection[str] | None = None,
    ) -> list[LoggedEvent]:
        """The cohort's rows with these verbs up to `until` (included), oldest first.

        Served by the (cohort_id, verb, at) index: one range scan per verb. Only the verbs
        in `with_data` (all when None) bring their JSON data; decoding it is the costly part.
        """
        data = (
            Activity.data
            if with_data is None
            else case((Activity.verb.in_(list(with_data)), Activity.data), else_=null())
        )
        rows = await self._session.execute(
            select(Activity.verb, Activity.person_id, Activity.at, Activity.object, data)
            .where(
                Activity.cohort_id == cohort_id,
                Activity.verb.in_(list(verbs)),
                Activity.at <= until,
            )
            .order_by(Activity.at, Activity.id)
        )
        return [
            LoggedEvent(verb=verb, person_id=person_id, at=at, object=obj, data=data or {})
            for verb, person_id, at, obj, data in rows
        ]

    async def cohorts_of_program(self, program: str) -> list[Cohort]:
        rows = await self._session.scalars(
            select(Cohort).where(Cohort.program == program).order_by(Cohort.key)
        )
        return list(rows)

    async def activity_log(self, cohort_id: int) -> AsyncIterator[Activity]:
        """Every row of the cohort's log, oldest first, read in batches (for exports)."""
        last_id = 0
        while True:
            batch = list(
                await self._session.scalars(
                    select(Activity)
                    .where(Activity.cohort_id == cohort_id, Activity.id > last_id)
                    .order_by(Activity.id)
                    .limit(_EXPORT_BATCH)
                )
            )
            for row in batch:
                yield row
            if len(batch) < _EXPORT_BATCH:
                return
            last_id = batch[-1].id
