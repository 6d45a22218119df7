"""Alembic migrations run on SQLite and PostgreSQL, and readiness reflects them."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.app import CohortBot
from bot.runtime.clock import ManualClock
from storage import migrate
from storage.db import create_engine
from storage.models import Base
from tests.harness import START, demo_config

TABLES = set(Base.metadata.tables)


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_creates_every_table_and_is_repeatable(both_databases_url: str) -> None:
    engine = create_engine(both_databases_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(table_names)
        assert tables >= TABLES
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_schema_from_migrations_matches_the_models(both_databases_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(both_databases_url)
    try:
        await migrate.upgrade(engine)

        def differences(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_readiness_reports_a_database_without_migrations(empty_sqlite_url: str) -> None:
    bot = CohortBot(demo_config(empty_sqlite_url), clock=ManualClock(START))
    try:
        assert "migrations" in await bot.readiness()
        await bot.prepare()
        assert await bot.readiness() == {}
    finally:
        await bot.stop()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    from sqlalchemy import text

    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
        assert journal == "wal"
        assert foreign_keys == 1
    finally:
        await engine.dispose()


async def test_upgrading_a_populated_database_keeps_its_people(both_databases_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    engine = create_engine(both_databases_url)
    try:
        await migrate.upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (display_name, email, time_zone, status, created_at) "
                    "VALUES ('Alex', 'alex@example.com', 'UTC', 'active', :now)"
                ),
                {"now": datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT display_name, profile FROM people"))).one()
        assert row[0] == "Alex"
        assert row[1] in ({}, "{}")
    finally:
        await engine.dispose()
