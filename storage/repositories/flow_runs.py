"""Flow runs: where each conversation stands."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import FlowRun
from storage.statuses import RunStatus

UNFINISHED = (RunStatus.ACTIVE, RunStatus.WAITING)
"""A run that still takes answers or is between steps."""
MOVING = ("step", "data", "status", "updated_at")
"""What the engine changes on a run as it goes."""


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

    async def create_many(
        self,
        *,
        flow: str,
        person_ids: Sequence[int],
        cohort_id: int | None,
        step: str,
        data: Mapping[str, Any],
        now: datetime,
    ) -> list[FlowRun]:
        """`create` for many people (one run each, in order), inserted in one statement."""
        if not person_ids:
            return []
        # A bulk INSERT .. RETURNING: one statement on both backends, where adding the runs
        # to the session and flushing would insert them one at a time on SQLite.
        created = await self._session.scalars(
            insert(FlowRun).returning(FlowRun),
            [
                {
                    "flow": flow,
                    "person_id": person_id,
                    "cohort_id": cohort_id,
                    "step": step,
                    "data": dict(data),
                    "status": RunStatus.ACTIVE,
                    "created_at": now,
                    "updated_at": now,
                }
                for person_id in person_ids
            ],
        )
        return _in_order(list(created), person_ids)

    async def save_new(self, runs: Sequence[FlowRun]) -> None:
        """Write how runs created in this transaction moved on, all in one statement.

        The ORM gives each changed run an UPDATE of its own, because it checks every
        versioned row's version. Nobody else can see these rows yet, so they need no check;
        each version still goes up by one, as that UPDATE would have made it.
        """
        moved = [run for run in runs if self._session.is_modified(run)]
        if not moved:
            return
        table = cast(Table, FlowRun.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("run_id"))
            .values({name: bindparam(f"new_{name}") for name in (*MOVING, "version")})
        )
        rows = [
            {
                "run_id": run.id,
                "new_version": run.version + 1,
                **{f"new_{name}": getattr(run, name) for name in MOVING},
            }
            for run in moved
        ]
        # Flushing first would send the very UPDATEs this statement replaces.
        with self._session.no_autoflush:
            await self._session.execute(statement, rows)
        for run in moved:
            for name in MOVING:
                set_committed_value(run, name, getattr(run, name))
            set_committed_value(run, "version", run.version + 1)

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

    async def active_of(
        self, *, flow: str, person_ids: Collection[int], cohort_id: int | None
    ) -> list[FlowRun]:
        """`active` for many people in one query, oldest run first."""
        if not person_ids:
            return []
        return list(
            await self._session.scalars(
                select(FlowRun)
                .where(
                    FlowRun.flow == flow,
                    FlowRun.person_id.in_(list(person_ids)),
                    FlowRun.cohort_id == cohort_id,
                    FlowRun.status.in_(UNFINISHED),
                )
                .order_by(FlowRun.id)
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


def _in_order(runs: list[FlowRun], person_ids: Sequence[int]) -> list[FlowRun]:
    """The runs in the order of their people: RETURNING promises no order, ids follow the rows."""
    by_person: dict[int, list[FlowRun]] = {}
    for run in sorted(runs, key=lambda run: run.id):
        by_person.setdefault(run.person_id, []).append(run)
    return [by_person[person_id].pop(0) for person_id in person_ids]
