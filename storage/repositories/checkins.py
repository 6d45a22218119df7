"""Check-in rounds and each participant's part in them (weekly, pulse and live)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attendance,
    CheckinAnswer,
    CheckinRound,
    Cohort,
    CohortSession,
    FlowRun,
)
from storage.repositories.flow_runs import UNFINISHED
from storage.statuses import SessionStatus
from storage.upsert import insert_ignoring_conflict, insert_many_ignoring_conflict

WEEKLY = "weekly"
PULSE = "pulse"
LIVE = "live"
LIVE_FLOW = "checkin.live"
"""A live check-in's position (whose turn, paused) is kept as a flow run's data."""


class CheckinRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_number(self, cohort_id: int, kind: str) -> int:
        last = await self._session.scalar(
            select(func.max(CheckinRound.number)).where(
                CheckinRound.cohort_id == cohort_id, CheckinRound.kind == kind
            )
        )
        return int(last or 0) + 1

    async def open_round(
        self,
        *,
        cohort_id: int,
        kind: str,
        number: int,
        order: list[int],
        opened_at: datetime,
        closes_at: datetime,
    ) -> CheckinRound | None:
        """Create round `number`; None when it exists already (opened by another run)."""
        new_id = await insert_ignoring_conflict(
            self._session,
            CheckinRound,
            {
                "cohort_id": cohort_id,
                "kind": kind,
                "number": number,
                "order": order,
                "opened_at": opened_at,
                "closes_at": closes_at,
            },
            conflict_columns=("cohort_id", "kind", "number"),
        )
        return await self.round(new_id) if new_id is not None else None

    async def round(self, round_id: int, *, lock: bool = False) -> CheckinRound | None:
        query = select(CheckinRound).where(CheckinRound.id == round_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def round_and_cohort(self, round_id: int) -> tuple[CheckinRound, Cohort] | None:
        """A round with its cohort, in one query."""
        row = (
            await self._session.execute(
                select(CheckinRound, Cohort)
                .join(Cohort, Cohort.id == CheckinRound.cohort_id)
                .where(CheckinRound.id == round_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def by_number(self, cohort_id: int, kind: str, number: int) -> CheckinRound | None:
        return await self._session.scalar(
            select(CheckinRound).where(
                CheckinRound.cohort_id == cohort_id,
                CheckinRound.kind == kind,
                CheckinRound.number == number,
            )
        )

    async def open_rounds(self, cohort_id: int, kind: str = WEEKLY) -> list[CheckinRound]:
        """Rounds whose digest has not been posted yet, oldest first."""
        return list(
            await self._session.scalars(
                select(CheckinRound)
                .where(
                    CheckinRound.cohort_id == cohort_id,
                    CheckinRound.kind == kind,
                    CheckinRound.digest_posted_at.is_(None),
                )
                .order_by(CheckinRound.number)
            )
        )

    async def add_prompt(self, *, round_id: int, person_id: int, now: datetime) -> bool:
        """Record that the person was asked in this round; False if they already were."""
        new_id = await insert_ignoring_conflict(
            self._session,
            CheckinAnswer,
            {"round_id": round_id, "person_id": person_id, "prompted_at": now},
            conflict_columns=("round_id", "person_id"),
        )
        return new_id is not None

    async def add_prompts(
        self, *, round_id: int, person_ids: Sequence[int], now: datetime
    ) -> set[int]:
        """`add_prompt` for many people in one statement; returns who was not asked before."""
        asked = await insert_many_ignoring_conflict(
            self._session,
            CheckinAnswer,
            [
                {"round_id": round_id, "person_id": person_id, "prompted_at": now}
                for person_id in dict.fromkeys(person_ids)
            ],
            conflict_columns=("round_id", "person_id"),
            returning="person_id",
        )
        return set(asked)

    async def answer(
        self, round_id: int, person_id: int, *, lock: bool = False
    ) -> CheckinAnswer | None:
        query = select(CheckinAnswer).where(
            CheckinAnswer.round_id == round_id, CheckinAnswer.person_id == person_id
        )
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def answer_by_id(self, answer_id: int, *, lock: bool = False) -> CheckinAnswer | None:
        query = select(CheckinAnswer).where(CheckinAnswer.id == answer_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def answers(self, round_id: int) -> list[CheckinAnswer]:
        return list(
            await self._session.scalars(
                select(CheckinAnswer)
                .where(CheckinAnswer.round_id == round_id)
                .order_by(CheckinAnswer.prompted_at, CheckinAnswer.id)
            )
        )

    async def history(
        self, cohort_id: int, kind: str = WEEKLY
    ) -> list[tuple[CheckinRound, CheckinAnswer]]:
        """Every closed round's answers in the cohort, newest round first."""
        rows = await self._session.execute(
            select(CheckinRound, CheckinAnswer)
            .join(CheckinAnswer, CheckinAnswer.round_id == CheckinRound.id)
            .where(
                CheckinRound.cohort_id == cohort_id,
                CheckinRound.kind == kind,
                CheckinRound.digest_posted_at.is_not(None),
            )
            .order_by(CheckinRound.number.desc())
        )
        return [(round_, answer) for round_, answer in rows]

    async def last_answered(self, cohort_id: int) -> dict[int, datetime]:
        """When each person last answered any check-in in the cohort."""
        rows = await self._session.execute(
            select(CheckinAnswer.person_id, func.max(CheckinAnswer.answered_at))
            .join(CheckinRound, CheckinRound.id == CheckinAnswer.round_id)
            .where(CheckinRound.cohort_id == cohort_id, CheckinAnswer.answered_at.is_not(None))
            .group_by(CheckinAnswer.person_id)
        )
        return {person_id: at for person_id, at in rows if at is not None}

    async def present(self, cohort_id: int) -> list[int] | None:
        """Who said "I'm here" in the cohort's running session; None when none runs."""
        session = await self._session.scalar(
            select(CohortSession)
            .where(
                CohortSession.cohort_id == cohort_id, CohortSession.status != SessionStatus.ENDED
            )
            .order_by(CohortSession.number.desc())
            .limit(1)
        )
        if session is None:
            return None
        return list(
            await self._session.scalars(
                select(Attendance.person_id)
                .where(Attendance.session_id == session.id)
                .order_by(Attendance.at, Attendance.id)
            )
        )

    async def live_run(self, cohort_id: int, *, lock: bool = False) -> FlowRun | None:
        """The cohort's live check-in in progress, if any (its position is a flow run)."""
        query = (
            select(FlowRun)
            .where(
                FlowRun.flow == LIVE_FLOW,
                FlowRun.cohort_id == cohort_id,
                FlowRun.status.in_(UNFINISHED),
            )
            .order_by(FlowRun.id.desc())
            .limit(1)
        )
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)
