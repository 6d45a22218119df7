"""Facilitated sessions: the running session, attendance, commitments and the pairs of a cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, Attendance, CohortSession, Commitment, MatchGroup
from storage.statuses import CommitmentStatus, SessionStatus
from storage.upsert import insert_ignoring_conflict


class CohortSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, session_id: int, *, lock: bool = False) -> CohortSession | None:
        query = select(CohortSession).where(CohortSession.id == session_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def current(self, cohort_id: int, *, lock: bool = False) -> CohortSession | None:
        """The cohort's session that has not ended (running or paused), if any."""
        query = (
            select(CohortSession)
            .where(
                CohortSession.cohort_id == cohort_id, CohortSession.status != SessionStatus.ENDED
            )
            .order_by(CohortSession.number.desc())
            .limit(1)
        )
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def latest(self, cohort_id: int) -> CohortSession | None:
        return await self._session.scalar(
            select(CohortSession)
            .where(CohortSession.cohort_id == cohort_id)
            .order_by(CohortSession.number.desc())
            .limit(1)
        )

    async def count(self, cohort_id: int) -> int:
        found = await self._session.scalar(
            select(func.count()).where(CohortSession.cohort_id == cohort_id)
        )
        return int(found or 0)

    async def create(
        self,
        *,
        cohort_id: int,
        facilitator_id: int | None,
        note_taker_id: int | None,
        now: datetime,
    ) -> CohortSession:
        """A new running session numbered after the cohort's last one, at its first item."""
        last = await self._session.scalar(
            select(func.max(CohortSession.number)).where(CohortSession.cohort_id == cohort_id)
        )
        row = CohortSession(
            cohort_id=cohort_id,
            number=int(last or 0) + 1,
            status=SessionStatus.RUNNING,
            item=0,
            item_started_at=now,
            paused_at=None,
            facilitator_id=facilitator_id,
            note_taker_id=note_taker_id,
            started_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def attend(self, *, session_id: int, person_id: int, now: datetime) -> bool:
        """Record that the person is here; False if they already were."""
        new_id = await insert_ignoring_conflict(
            self._session,
            Attendance,
            {"session_id": session_id, "person_id": person_id, "at": now},
            conflict_columns=("session_id", "person_id"),
        )
        return new_id is not None

    async def attendees(self, session_id: int) -> list[int]:
        """Person ids in the order they arrived."""
        rows = await self._session.scalars(
            select(Attendance.person_id)
            .where(Attendance.session_id == session_id)
            .order_by(Attendance.at, Attendance.id)
        )
        return list(rows)

    async def attended_ever(self, cohort_id: int) -> set[int]:
        """Everyone who attended any session of the cohort."""
        rows = await self._session.scalars(
            select(Attendance.person_id)
            .join(CohortSession, CohortSession.id == Attendance.session_id)
            .where(CohortSession.cohort_id == cohort_id)
        )
        return set(rows)

    async def note_taker_turns(self, cohort_id: int) -> dict[int, int]:
        rows = await self._session.execute(
            select(CohortSession.note_taker_id, func.count())
            .where(CohortSession.cohort_id == cohort_id, CohortSession.note_taker_id.is_not(None))
            .group_by(CohortSession.note_taker_id)
        )
        return {int(person_id): int(turns) for person_id, turns in rows if person_id is not None}

    async def latest_groups(self, cohort_id: int) -> list[list[int]]:
        """The groups of the cohort's latest matching cycle (empty before the first)."""
        cycle = await self._session.scalar(
            select(func.max(MatchGroup.cycle)).where(MatchGroup.cohort_id == cohort_id)
        )
        if cycle is None:
            return []
        rows = await self._session.scalars(
            select(MatchGroup)
            .where(MatchGroup.cohort_id == cohort_id, MatchGroup.cycle == cycle)
            .order_by(MatchGroup.id)
        )
        return [list(group.members) for group in rows]

    def add_commitment(self, commitment: Commitment) -> None:
        self._session.add(commitment)

    async def commitment(self, commitment_id: int, *, lock: bool = False) -> Commitment | None:
        query = select(Commitment).where(Commitment.id == commitment_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def open_commitments(self, cohort_id: int) -> list[Commitment]:
        rows = await self._session.scalars(
            select(Commitment)
            .where(Commitment.cohort_id == cohort_id, Commitment.status == CommitmentStatus.OPEN)
            .order_by(Commitment.id)
        )
        return list(rows)

    async def commitments_of_session(self, session_id: int) -> list[Commitment]:
        rows = await self._session.scalars(
            select(Commitment).where(Commitment.session_id == session_id).order_by(Commitment.id)
        )
        return list(rows)

    async def logged(
        self, *, session_id: int, verb: str, person_id: int | None = None
    ) -> list[Activity]:
        """Activity entries about a session (its practice groups, its ratings), oldest first."""
        query = select(Activity).where(
            Activity.object == session_ref(session_id), Activity.verb == verb
        )
        if person_id is not None:
            query = query.where(Activity.person_id == person_id)
        return list(await self._session.scalars(query.order_by(Activity.id)))


def session_ref(session_id: int) -> str:
    """How the activity log names a session."""
    return f"session:{session_id}"
