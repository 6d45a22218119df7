"""The review repository: requests, one assignment per reviewer, load and open tasks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import SessionFactory
from storage.models import ReviewAssignment, ReviewRequest
from storage.statuses import AssignmentStatus, ReviewStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people

DUE = NOW + timedelta(days=14)


async def _request(
    uow: UnitOfWork, cohort_id: int, author: int, artifact: str, *, due: datetime = DUE
) -> ReviewRequest:
    return await uow.reviews.create_request(
        cohort_id=cohort_id,
        author_id=author,
        artifact=artifact,
        reviewers_wanted=2,
        due_at=due,
        now=NOW,
    )


async def _assign(
    uow: UnitOfWork, request: ReviewRequest, reviewer: int, status: AssignmentStatus | None = None
) -> ReviewAssignment:
    assignment = await uow.reviews.assign(
        request_id=request.id, reviewer_id=reviewer, due_at=request.due_at, now=NOW
    )
    if status is not None:
        assignment.status = status
    return assignment


async def test_a_new_request_is_open_and_its_assignments_read_in_the_order_made(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        author, a, b = await add_people(uow, "Author", "A", "B")
        request = await _request(uow, cohort, author, "https://example.com/doc")
        first_made = (await _assign(uow, request, b)).id
        await _assign(uow, request, a)

    async with unit_of_work(sessions) as uow:
        stored = await uow.reviews.request(request.id, lock=True)
        assignments = await uow.reviews.assignments(request.id)
        one = await uow.reviews.assignment(first_made, lock=True)
        assert await uow.reviews.request(request.id + 100) is None
        assert await uow.reviews.assignment(first_made + 100) is None

    assert stored is not None
    assert (stored.status, stored.reviewers_wanted, stored.due_at) == (ReviewStatus.OPEN, 2, DUE)
    assert (stored.created_at, stored.completed_at) == (NOW, None)
    assert [x.reviewer_id for x in assignments] == [b, a]
    assert one is not None
    assert (one.status, one.reminders_sent, one.scores, one.comments) == (
        AssignmentStatus.ASSIGNED,
        0,
        {},
        {},
    )
    assert (one.assigned_at, one.due_at) == (NOW, DUE)


async def test_a_reviewer_is_assigned_to_a_request_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        author, reviewer = await add_people(uow, "Author", "Reviewer")
        request = await _request(uow, cohort, author, "doc")
        await _assign(uow, request, reviewer)

    async with unit_of_work(sessions) as uow:
        with pytest.raises(IntegrityError):
            await _assign(uow, request, reviewer)
        await uow.session.rollback()

    async with unit_of_work(sessions) as uow:
        assert len(await uow.reviews.assignments(request.id)) == 1


async def test_open_load_counts_only_assigned_work_and_zero_for_the_idle(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        author, busy, done, idle = await add_people(uow, "Author", "Busy", "Done", "Idle")
        first = await _request(uow, cohort, author, "one")
        second = await _request(uow, cohort, author, "two")
        await _assign(uow, first, busy)
        await _assign(uow, second, busy)
        await _assign(uow, first, done, AssignmentStatus.SUBMITTED)
        await _assign(uow, second, done, AssignmentStatus.DECLINED)

    async with unit_of_work(sessions) as uow:
        load = await uow.reviews.open_load([busy, done, idle])
        assert await uow.reviews.open_load([]) == {}

    assert load == {busy: 2, done: 0, idle: 0}


async def test_previous_reviewers_are_those_of_the_authors_latest_earlier_request(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        author, a, b, c = await add_people(uow, "Author", "A", "B", "C")
        assert await uow.reviews.previous_reviewers(cohort_id=cohort, author_id=author) == set()
        first = await _request(uow, cohort, author, "one")
        await _assign(uow, first, a, AssignmentStatus.SUBMITTED)
        await _assign(uow, first, b, AssignmentStatus.DECLINED)
        second = await _request(uow, cohort, author, "two")
        await _assign(uow, second, c)
        elsewhere = await _request(uow, other, author, "elsewhere")
        await _assign(uow, elsewhere, b)

    async with unit_of_work(sessions) as uow:
        latest = await uow.reviews.previous_reviewers(cohort_id=cohort, author_id=author)
        before_second = await uow.reviews.previous_reviewers(
            cohort_id=cohort, author_id=author, before_request_id=second.id
        )
        before_first = await uow.reviews.previous_reviewers(
            cohort_id=cohort, author_id=author, before_request_id=first.id
        )

    assert latest == {c}, "asked to review counts, before they submit"
    assert before_second == {a}, "a decline does not count as having reviewed"
    assert before_first == set()


async def test_open_tasks_are_the_reviewers_assigned_work_soonest_due_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        author, other_author, reviewer = await add_people(uow, "Author", "Other", "Reviewer")
        later = await _request(uow, cohort, author, "later")
        sooner = await _request(uow, cohort, other_author, "sooner", due=NOW + timedelta(days=3))
        finished = await _request(uow, cohort, author, "finished", due=NOW)
        for request in (later, sooner):
            await _assign(uow, request, reviewer)
        await _assign(uow, finished, reviewer, AssignmentStatus.SUBMITTED)

    async with unit_of_work(sessions) as uow:
        tasks = await uow.reviews.open_tasks(reviewer)

    assert [request.artifact for _, request in tasks] == ["sooner", "later"]
    assert all(assignment.request_id == request.id for assignment, request in tasks)


async def test_requests_by_an_author_are_newest_first(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        author, someone = await add_people(uow, "Author", "Someone")
        for cohort, artifact in ((a, "one"), (b, "two"), (a, "three")):
            await _request(uow, cohort, author, artifact)
        await _request(uow, a, someone, "not theirs")

    async with unit_of_work(sessions) as uow:
        requests = await uow.reviews.requests_by(author)

    assert [request.artifact for request in requests] == ["three", "two", "one"]
