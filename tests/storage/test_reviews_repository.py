"""The review repository on SQLite and PostgreSQL: load, last reviewers, open tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Person
from storage.repositories.reviews import DECLINED, SUBMITTED
from storage.uow import UnitOfWork, unit_of_work
from tests.harness import START


@pytest.fixture
async def sessions(both_databases_url: str) -> AsyncIterator[SessionFactory]:
    engine: AsyncEngine = create_engine(both_databases_url)
    await migrate.upgrade(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _people(uow: UnitOfWork, count: int) -> list[int]:
    people = [Person(display_name=f"P{n}", created_at=START) for n in range(count)]
    uow.session.add_all(people)
    await uow.session.flush()
    return [person.id for person in people]


async def test_load_last_reviewers_and_open_tasks(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = await uow.cohorts.upsert(
            key="c", name="C", program="pilot", time_zone="UTC", now=START
        )
        author, a, b, c = await _people(uow, 4)
        due = START + timedelta(days=14)
        first = await uow.reviews.create_request(
            cohort_id=cohort.id,
            author_id=author,
            artifact="one",
            reviewers_wanted=2,
            due_at=due,
            now=START,
        )
        done = await uow.reviews.assign(request_id=first.id, reviewer_id=a, due_at=due, now=START)
        gone = await uow.reviews.assign(request_id=first.id, reviewer_id=b, due_at=due, now=START)
        done.status, gone.status = SUBMITTED, DECLINED
        second = await uow.reviews.create_request(
            cohort_id=cohort.id,
            author_id=author,
            artifact="two",
            reviewers_wanted=1,
            due_at=due,
            now=START,
        )
        await uow.reviews.assign(request_id=second.id, reviewer_id=c, due_at=due, now=START)
        sooner = await uow.reviews.create_request(
            cohort_id=cohort.id,
            author_id=b,
            artifact="three",
            reviewers_wanted=1,
            due_at=START + timedelta(days=3),
            now=START,
        )
        await uow.reviews.assign(
            request_id=sooner.id, reviewer_id=c, due_at=sooner.due_at, now=START
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.reviews.open_load([a, b, c, author]) == {a: 0, b: 0, c: 2, author: 0}
        last = await uow.reviews.previous_reviewers(cohort_id=cohort.id, author_id=author)
        assert last == {c}
        earlier = await uow.reviews.previous_reviewers(
            cohort_id=cohort.id, author_id=author, before_request_id=second.id
        )
        assert earlier == {a}, "a decline does not count as having reviewed"
        tasks = await uow.reviews.open_tasks(c)
        assert [request.artifact for _, request in tasks] == ["three", "two"]
        assert [r.artifact for r in await uow.reviews.requests_by(author)] == ["two", "one"]
