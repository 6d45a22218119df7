"""Escalations and their audit trail, plus the candidates the automatic sweep looks at."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Escalation,
    EscalationEvent,
    Membership,
    OutboxMessage,
    ReviewAssignment,
    ReviewRequest,
)
from storage.statuses import (
    AssignmentStatus,
    EscalationStatus,
    MembershipStatus,
    OutboxStatus,
    ReviewStatus,
)
from storage.upsert import insert_ignoring_conflict


@dataclass(frozen=True)
class NewEscalation:
    """What a source knows when it raises an escalation."""

    kind: str
    dedup_key: str
    summary: str
    cohort_id: int | None = None
    tag: str | None = None
    reporter_id: int | None = None
    subject_id: int | None = None
    context: dict[str, Any] | None = None


class EscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self, new: NewEscalation, *, now: datetime, ack_due_at: datetime
    ) -> Escalation | None:
        """Insert the escalation unless its dedup key exists; None when it did already.

        Insert-if-absent on the unique key, so two processes raising the same thing at
        once produce one row (the loser's insert does nothing).
        """
        new_id = await insert_ignoring_conflict(
            self._session,
            Escalation,
            {
                "cohort_id": new.cohort_id,
                "kind": new.kind,
                "tag": new.tag,
                "dedup_key": new.dedup_key[:200],
                "status": EscalationStatus.OPEN,
                "tier": 1,
                "reporter_id": new.reporter_id,
                "subject_id": new.subject_id,
                "summary": new.summary,
                "context": new.context or {},
                "created_at": now,
                "ack_due_at": ack_due_at,
            },
            conflict_columns=("dedup_key",),
        )
        if new_id is None:
            return None
        return await self.get(new_id)

    async def get(self, escalation_id: int, *, lock: bool = False) -> Escalation | None:
        statement = select(Escalation).where(Escalation.id == escalation_id)
        if lock:
            statement = statement.with_for_update()
        return await self._session.scalar(statement.execution_options(populate_existing=True))

    async def get_in(
        self, escalation_id: int, cohort_ids: Collection[int], *, lock: bool = False
    ) -> Escalation | None:
        """The escalation if it belongs to one of these cohorts or to none; else None.

        One lookup that cannot tell "no such escalation" from "not one of yours", so a
        number outside someone's cohorts looks exactly like a number never used.
        """
        statement = select(Escalation).where(
            Escalation.id == escalation_id,
            or_(Escalation.cohort_id.in_(list(cohort_ids)), Escalation.cohort_id.is_(None)),
        )
        if lock:
            statement = statement.with_for_update()
        return await self._session.scalar(statement.execution_options(populate_existing=True))

    async def by_dedup_key(self, dedup_key: str) -> Escalation | None:
        return await self._session.scalar(
            select(Escalation).where(Escalation.dedup_key == dedup_key[:200])
        )

    async def existing_keys(self, keys: Collection[str]) -> set[str]:
        """Which of these dedup keys have been raised already."""
        if not keys:
            return set()
        rows = await self._session.scalars(
            select(Escalation.dedup_key).where(Escalation.dedup_key.in_(list(keys)))
        )
        return set(rows)

    async def unresolved(self, cohort_id: int) -> list[Escalation]:
        """Open and acknowledged escalations of a cohort, oldest first."""
        rows = await self._session.scalars(
            select(Escalation)
            .where(
                Escalation.cohort_id == cohort_id, Escalation.status != EscalationStatus.RESOLVED
            )
            .order_by(Escalation.created_at, Escalation.id)
        )
        return list(rows)

    def record(
        self, escalation_id: int, *, at: datetime, action: str, actor_id: int | None, note: str = ""
    ) -> None:
        """Append one step to the audit trail."""
        self._session.add(
            EscalationEvent(
                escalation_id=escalation_id,
                at=at,
                actor_id=actor_id,
                action=action,
                note=note or None,
            )
        )

    async def events(self, escalation_id: int) -> list[EscalationEvent]:
        await self._session.flush()
        rows = await self._session.scalars(
            select(EscalationEvent)
            .where(EscalationEvent.escalation_id == escalation_id)
            .order_by(EscalationEvent.at, EscalationEvent.id)
        )
        return list(rows)

    async def overdue_reviews(
        self, cohort_id: int, *, due_before: datetime
    ) -> list[tuple[ReviewAssignment, ReviewRequest]]:
        """Assignments still waiting on their reviewer whose deadline is before `due_before`."""
        rows = await self._session.execute(
            select(ReviewAssignment, ReviewRequest)
            .join(ReviewRequest, ReviewRequest.id == ReviewAssignment.request_id)
            .where(
                ReviewRequest.cohort_id == cohort_id,
                ReviewRequest.status == ReviewStatus.OPEN,
                ReviewAssignment.status == AssignmentStatus.ASSIGNED,
                ReviewAssignment.due_at <= due_before,
            )
            .order_by(ReviewAssignment.id)
        )
        return [(assignment, request) for assignment, request in rows]

    async def inactive_since(self, cohort_id: int, *, before: datetime) -> list[Membership]:
        """Active participants who have been inactive since before `before`."""
        rows = await self._session.scalars(
            select(Membership)
            .where(
                Membership.cohort_id == cohort_id,
                Membership.role == "participant",
                Membership.status == MembershipStatus.ACTIVE,
                Membership.inactive_since.is_not(None),
                Membership.inactive_since <= before,
            )
            .order_by(Membership.id)
        )
        return list(rows)

    async def unraised_dead_letters(
        self, *, key_prefix: str, skip_ref_prefix: str, limit: int = 100
    ) -> list[OutboxMessage]:
        """Dead-lettered outbox rows with no escalation keyed `<key_prefix><id>` yet.

        Rows sent under a logical key starting with `skip_ref_prefix` are left out: a
        moderators' ping that cannot be delivered must not raise a ping about itself.
        """
        raised = (
            select(Escalation.id)
            .where(
                Escalation.dedup_key == literal(key_prefix, String) + cast(OutboxMessage.id, String)
            )
            .exists()
        )
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.DEAD,
                ~raised,
                or_(
                    OutboxMessage.ref_key.is_(None),
                    ~OutboxMessage.ref_key.startswith(skip_ref_prefix, autoescape=True),
                ),
                or_(
                    OutboxMessage.update_of_key.is_(None),
                    ~OutboxMessage.update_of_key.startswith(skip_ref_prefix, autoescape=True),
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(rows)
