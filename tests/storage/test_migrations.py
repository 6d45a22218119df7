"""Alembic migrations run on SQLite and PostgreSQL, and readiness reflects them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from bot.app import CohortBot
from bot.runtime.clock import ManualClock
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import (
    Activity,
    Base,
    Cohort,
    FlowRun,
    Person,
    ReviewAssignment,
    ReviewRequest,
    ScheduledItem,
)
from storage.statuses import TimerStatus
from storage.uow import unit_of_work
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


async def test_an_open_review_task_and_its_pending_reminder_move_onto_the_engine(
    both_databases_url: str,
) -> None:
    engine = create_engine(both_databases_url)
    assigned = START - timedelta(days=4)
    try:
        await migrate.upgrade(engine, "0006")
        async with unit_of_work(session_factory(engine)) as uow:
            author = Person(display_name="Alex", time_zone="UTC", created_at=assigned)
            reviewer = Person(display_name="Priya", time_zone="UTC", created_at=assigned)
            cohort = Cohort(key="pilot-a", name="Pilot", program="pilot", created_at=assigned)
            uow.session.add_all([author, reviewer, cohort])
            await uow.session.flush()
            request = ReviewRequest(
                cohort_id=cohort.id,
                author_id=author.id,
                artifact="deck",
                due_at=assigned + timedelta(days=8),
                created_at=assigned,
            )
            uow.session.add(request)
            await uow.session.flush()
            assignment = ReviewAssignment(
                request_id=request.id,
                reviewer_id=reviewer.id,
                assigned_at=assigned,
                due_at=request.due_at,
            )
            uow.session.add(assignment)
            await uow.session.flush()
            for index, (due, status) in enumerate(
                [(assigned + timedelta(days=2), "done"), (START + timedelta(hours=1), "active")]
            ):
                uow.session.add(
                    ScheduledItem(
                        key=f"review:assignment:{assignment.id}:remind:{index}",
                        task="review.remind",
                        payload={"assignment_id": assignment.id},
                        due_at=due,
                        status=status,
                        created_at=assigned,
                    )
                )
            assignment_id = assignment.id

        await migrate.upgrade(engine)

        async with unit_of_work(session_factory(engine)) as uow:
            (run,) = await uow.session.scalars(select(FlowRun))
            (timer,) = await uow.session.scalars(
                select(ScheduledItem).where(ScheduledItem.status == TimerStatus.ACTIVE)
            )
        assert (run.flow, run.step, run.status) == ("review.task", "decide", "waiting")
        assert run.data == {
            "assignment_id": assignment_id,
            "remind_at": [(START + timedelta(hours=1)).isoformat()],
        }
        assert (timer.key, timer.task) == (f"flow:{run.id}:decide:remind:1", "flow.remind")
        assert timer.payload == {"run_id": run.id, "step": "decide"}
    finally:
        await engine.dispose()

    clock = ManualClock(START)
    bot = CohortBot(demo_config(both_databases_url), clock=clock)
    try:
        await bot.prepare()
        clock.advance(timedelta(hours=1))
        await bot.scheduler.tick()
        async with unit_of_work(bot.sessions) as uow:
            reminded = await uow.reviews.assignment(assignment_id)
            logged = await uow.session.scalars(
                select(Activity).where(Activity.verb == "review.reminded")
            )
            assert reminded is not None
            assert reminded.reminders_sent == 1
            assert len(list(logged)) == 1
    finally:
        await bot.stop()


async def test_a_running_live_checkin_and_its_turn_timer_move_onto_the_engine(
    both_databases_url: str,
) -> None:
    engine = create_engine(both_databases_url)
    try:
        await migrate.upgrade(engine, "0006")
        async with unit_of_work(session_factory(engine)) as uow:
            facilitator = Person(display_name="Dana", time_zone="UTC", created_at=START)
            uow.session.add(facilitator)
            await uow.session.flush()
            live = {"round_id": 7, "order": [3, 4], "turn": 1, "paused": False}
            run = FlowRun(
                flow="checkin.live",
                person_id=facilitator.id,
                step="turn",
                data=live,
                status="active",
                created_at=START,
                updated_at=START,
            )
            uow.session.add(run)
            await uow.session.flush()
            uow.session.add(
                ScheduledItem(
                    key="checkin:live:7:turn:1",
                    task="checkin.live_turn",
                    payload={"run_id": run.id, "turn": 1},
                    due_at=START + timedelta(minutes=3),
                    created_at=START,
                )
            )
            run_id = run.id

        await migrate.upgrade(engine)

        async with unit_of_work(session_factory(engine)) as uow:
            moved = await uow.flow_runs.get(run_id)
            (timer,) = await uow.session.scalars(select(ScheduledItem))
        assert moved is not None
        assert (moved.status, moved.step) == ("waiting", "turn")
        assert moved.data == {**live, "again": False}
        assert (timer.key, timer.task, timer.status) == (
            f"flow:{run_id}:turn:timeout",
            "flow.timeout",
            "active",
        )
        assert timer.payload == {"run_id": run_id, "step": "turn"}
    finally:
        await engine.dispose()
