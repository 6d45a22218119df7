"""Shared setup of the repository contract tests: a migrated database and a few rows.

`sessions` is a session factory on a freshly migrated database, once on SQLite and once
on PostgreSQL (when TEST_POSTGRES_URL is set). `pg_sessions` is PostgreSQL alone, for
what only a server with concurrent transactions can show: row locks and SKIP LOCKED.
The helpers add the rows most repositories hang off (people, a cohort, members).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from bot.model.roles import Role
from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Cohort, Person
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
"""A Monday morning; every test passes its times explicitly, relative to this."""


@asynccontextmanager
async def _migrated(url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def sessions(
    both_databases_url: str, migrated_sqlite_template: Path
) -> AsyncIterator[SessionFactory]:
    """Sessions on a database at the migrations' head: SQLite, then PostgreSQL.

    SQLite starts from a copy of the process's migrated template (the same migrations,
    run once), so each test pays milliseconds, not a full Alembic run; `upgrade` then
    confirms it is at head. PostgreSQL is migrated from an empty schema every time.
    """
    url = make_url(both_databases_url)
    if url.get_backend_name() == "sqlite" and url.database:
        shutil.copyfile(migrated_sqlite_template, url.database)
    async with _migrated(both_databases_url) as factory:
        yield factory


@pytest.fixture
async def pg_sessions(postgres_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on a migrated PostgreSQL database; skipped without TEST_POSTGRES_URL."""
    async with _migrated(postgres_url) as factory:
        yield factory


async def no_lock_waits(uow: UnitOfWork) -> None:
    """Fail fast instead of hanging should this transaction ever wait for a row lock."""
    await uow.session.execute(text("SET LOCAL lock_timeout = '2s'"))


async def wait_until_blocked(uow: UnitOfWork, *, waiting: int = 1) -> None:
    """Return once `waiting` other transactions are queued on a lock (PostgreSQL).

    Polls the server instead of sleeping: each query yields to the event loop, so the
    blocked statement gets sent, and the loop ends as soon as the server shows it waiting.
    Only this test process's database counts, so other runs on the server do not.
    """
    for _ in range(10_000):
        # The statistics views are read once per transaction unless told to look again.
        await uow.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        queued = await uow.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        if queued is not None and queued >= waiting:
            return
    raise AssertionError(f"expected {waiting} transaction(s) waiting on a lock; none did")


async def add_people(uow: UnitOfWork, *names: str) -> list[int]:
    """A person per name (no platform identity), in order; returns their ids."""
    people = [Person(display_name=name, created_at=NOW) for name in names]
    uow.session.add_all(people)
    await uow.session.flush()
    return [person.id for person in people]


async def add_cohort(uow: UnitOfWork, key: str = "pilot-a", *, program: str = "pilot") -> Cohort:
    """A cohort in UTC, named after its key."""
    return await uow.cohorts.upsert(
        key=key, name=key.title(), program=program, time_zone="UTC", now=NOW
    )


async def add_participants(uow: UnitOfWork, cohort_id: int, *names: str) -> list[int]:
    """New people who join the cohort as participants; returns their ids."""
    ids = await add_people(uow, *names)
    for person_id in ids:
        await uow.cohorts.add_member(
            cohort_id=cohort_id, person_id=person_id, role=Role.PARTICIPANT, now=NOW
        )
    return ids
