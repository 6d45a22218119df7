"""Flow runs: where each conversation stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FlowRun
from storage.statuses import RunStatus

UNFINISHED = (RunStatus.ACTIVE, RunStatus.WAITING)
"""A run that still takes answers or is between steps."""


class FlowRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        flow: str,
        person_id: int,
        cohort_id: int | None,
        step: str,
        data: dict[str, Any],
        now: datetime,
    ) -> FlowRun:
        run = FlowRun(
            flow=flow,
            person_id=person_id,
            cohort_id=cohort_id,
            step=step,
            data=data,
            status=RunStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        self._session.add(run)
        await self._session.flush()
        return run

    async def get(self, run_id: int, *, lock: bool = False) -> FlowRun | None:
        statement = select(FlowRun).where(FlowRun.id == run_id)
        if lock:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def waiting_for_text(self, person_id: int, *, lock: bool = False) -> FlowRun | None:
        """The person's most recent run that waits for an answer."""
        statement = (
            select(FlowRun)
            .where(FlowRun.person_id == person_id, FlowRun.status == RunStatus.WAITING)
            .order_by(FlowRun.updated_at.desc(), FlowRun.id.desc())
            .limit(1)
        )
        if lock:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def active(self, *, flow: str, person_id: int, cohort_id: int | None) -> list[FlowRun]:
        return list(
            await self._session.scalars(
                select(FlowRun).where(
                    FlowRun.flow == flow,
                    FlowRun.person_id == person_id,
                    FlowRun.cohort_id == cohort_id,
                    FlowRun.status.in_(UNFINISHED),
                )
            )
        )

    async def flush(self) -> None:
        await self._session.flush()

    async def waiting(self, person_id: int) -> list[FlowRun]:
        """The person's runs that wait for an answer, oldest first."""
        return list(
            await self._session.scalars(
                select(FlowRun)
                .where(FlowRun.person_id == person_id, FlowRun.status == RunStatus.WAITING)
                .order_by(FlowRun.id)
            )
        )
