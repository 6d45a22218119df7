"""Peer-review requests and each reviewer's assignment in them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReviewAssignment, ReviewRequest
from storage.statuses import AssignmentStatus, ReviewStatus


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create_request(
        self,
        *,
        cohort_id: int,
        author_id: int,
        artifact: str,
        reviewers_wanted: int,
        due_at: datetime,
        now: datetime,
    ) -> ReviewRequest:
        request = ReviewRequest(
            cohort_id=cohort_id,
            author_id=author_id,
            artifact=artifact,
            reviewers_wanted=reviewers_wanted,
            due_at=due_at,
            status=ReviewStatus.OPEN,
            created_at=now,
        )
        self._session.add(request)
        await self._session.flush()
        return request

    async def assign(
        self, *, request_id: int, reviewer_id: int, due_at: datetime, now: datetime
    ) -> ReviewAssignment:
        assignment = ReviewAssignment(
            request_id=request_id,
            reviewer_id=reviewer_id,
            status=AssignmentStatus.ASSIGNED,
            assigned_at=now,
            due_at=due_at,
            reminders_sent=0,
            scores={},
            comments={},
        )
        self._session.add(assignment)
        await self._session.flush()
        return assignment

    async def request(self, request_id: int, *, lock: bool = False) -> ReviewRequest | None:
        query = select(ReviewRequest).where(ReviewRequest.id == request_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def assignment(
        self, assignment_id: int, *, lock: bool = False
    ) -> ReviewAssignment | None:
        query = select(ReviewAssignment).where(ReviewAssignment.id == assignment_id)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def assignments(self, request_id: int) -> list[ReviewAssignment]:
        """Every assignment of a request, in the order they were made."""
        return list(
            await self._session.scalars(
                select(ReviewAssignment)
                .where(ReviewAssignment.request_id == request_id)
                .order_by(ReviewAssignment.id)
            )
        )

    async def open_load(self, reviewer_ids: Iterable[int]) -> dict[int, int]:
        """Open (assigned, not yet submitted or declined) assignments per reviewer."""
        ids = list(reviewer_ids)
        if not ids:
            return {}
        rows = await self._session.execute(
            select(ReviewAssignment.reviewer_id, func.count())
            .where(
                ReviewAssignment.reviewer_id.in_(ids),
                ReviewAssignment.status == AssignmentStatus.ASSIGNED,
            )
            .group_by(ReviewAssignment.reviewer_id)
        )
        found = {int(reviewer): int(count) for reviewer, count in rows}
        return {reviewer: found.get(reviewer, 0) for reviewer in ids}

    async def previous_reviewers(
        self, *, cohort_id: int, author_id: int, before_request_id: int | None = None
    ) -> set[int]:
        """Who reviewed (or was asked to review) the author's latest earlier request."""
        query = select(ReviewRequest.id).where(
            ReviewRequest.cohort_id == cohort_id, ReviewRequest.author_id == author_id
        )
        if before_request_id is not None:
            query = query.where(ReviewRequest.id < before_request_id)
        previous = await self._session.scalar(query.order_by(ReviewRequest.id.desc()).limit(1))
        if previous is None:
            return set()
        return {
            a.reviewer_id
            for a in await self.assignments(previous)
            if a.status != AssignmentStatus.DECLINED
        }

    async def requests_by(self, author_id: int) -> list[ReviewRequest]:
        """The author's requests, newest first."""
        return list(
            await self._session.scalars(
                select(ReviewRequest)
                .where(ReviewRequest.author_id == author_id)
                .order_by(ReviewRequest.id.desc())
            )
        )

    async def open_tasks(self, reviewer_id: int) -> list[tuple[ReviewAssignment, ReviewRequest]]:
        """The reviewer's assignments still to do, soonest due first."""
        rows = await self._session.execute(
            select(ReviewAssignment, ReviewRequest)
            .join(ReviewRequest, ReviewRequest.id == ReviewAssignment.request_id)
            .where(
                ReviewAssignment.reviewer_id == reviewer_id,
                ReviewAssignment.status == AssignmentStatus.ASSIGNED,
            )
            .order_by(ReviewAssignment.due_at, ReviewAssignment.id)
        )
        return [(assignment, request) for assignment, request in rows]
