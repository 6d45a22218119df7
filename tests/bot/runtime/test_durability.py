"""Nothing is lost or done twice: restarts, duplicate deliveries, events left unprocessed."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.commands.parser import CommandSpec
from bot.commands.router import CommandContext
from bot.model.events import Actor, MessageReceived
from storage.models import FlowRun, InboxEvent, OutboxMessage
from storage.uow import unit_of_work
from tests.harness import demo_config, running_bot

ALEX = Actor(platform="local", workspace="local", user_id="alex", display_name="Alex Morgan")


def dm(event_id: str, text: str) -> MessageReceived:
    return MessageReceived(event_id=event_id, actor=ALEX, is_direct=True, text=text)


async def test_flow_resumes_where_the_person_was_after_a_restart(database_url: str) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        clock = playground.clock

    async with running_bot(config, clock=clock) as reopened:
        await reopened.say("alex", "Asia/Tokyo")

        assert (await reopened.dm_texts("alex"))[-1] == "What is your main area of knowledge?"
        async with unit_of_work(reopened.bot.sessions) as uow:
            run = await uow.session.scalar(select(FlowRun))
        assert run is not None
        assert (run.status, run.step, run.data["time_zone"]) == ("waiting", "area", "Asia/Tokyo")


async def test_reminder_scheduled_before_a_restart_fires_after_it_once(
    database_url: str,
) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        clock = playground.clock

    clock.advance(timedelta(hours=24, minutes=1))
    async with running_bot(config, clock=clock) as reopened:
        await reopened.bot.settle()
        await reopened.advance(timedelta(hours=1))
        reminders = [t for t in await reopened.dm_texts("alex") if t.startswith("Reminder")]
        assert len(reminders) == 1


async def test_duplicate_delivery_of_an_event_is_processed_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        first = await playground.bot.accept(dm("evt-1", "help"))
        again = await playground.bot.accept(dm("evt-1", "help"))
        third = await playground.bot.accept(dm("evt-1", "help"))
        await playground.bot.settle()

        assert (first, again, third) == (True, False, False)
        assert len(await playground.dm_texts("alex")) == 1
        async with unit_of_work(playground.bot.sessions) as uow:
            rows = await uow.session.scalar(select(func.count(InboxEvent.id)))
        assert rows == 1


async def test_event_recorded_but_not_processed_is_processed_at_next_start(
    database_url: str,
) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        clock = playground.clock
        # The process dies right after the acknowledgement: the inbox row exists, no work done.
        async with unit_of_work(playground.bot.sessions) as uow:
            await uow.inbox.record(
                platform="local",
                event_id="evt-crash",
                payload=dm("evt-crash", "help").model_dump(mode="json"),
                now=clock.now(),
            )

    async with running_bot(config, clock=clock) as reopened:
        await reopened.bot.settle()
        async with unit_of_work(reopened.bot.sessions) as uow:
            status = await uow.session.scalar(select(InboxEvent.status))
            queued = await uow.session.scalar(select(func.count(OutboxMessage.id)))
        assert status == "done"
        assert queued == 1


async def test_a_failing_command_is_marked_failed_and_the_person_told(sqlite_url: str) -> None:
    async def broken(_ctx: CommandContext) -> None:
        raise RuntimeError("handler bug")

    async with running_bot(demo_config(sqlite_url)) as playground:
        playground.bot.router.register(CommandSpec("boom", "Fails", ""), broken)
        await playground.say("alex", "/cohort boom")

        async with unit_of_work(playground.bot.sessions) as uow:
            row = await uow.session.scalar(select(InboxEvent))
            queued = list(await uow.session.scalars(select(OutboxMessage.idempotency_key)))
        assert row is not None
        assert (row.status, row.error) == ("failed", "RuntimeError: handler bug")
        assert "something went wrong on my side" in (await playground.dm_texts("alex"))[-1]
        assert all(key.startswith("err:") for key in queued), "the failed work left nothing"


async def test_an_unreadable_inbox_row_is_marked_failed(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with unit_of_work(playground.bot.sessions) as uow:
            bad_id = await uow.inbox.record(
                platform="local",
                event_id="evt-bad",
                payload={"kind": "?"},
                now=playground.clock.now(),
            )
        assert bad_id is not None
        await playground.bot.dispatcher.process(bad_id, None)

        async with unit_of_work(playground.bot.sessions) as uow:
            row = await uow.session.get(InboxEvent, bad_id)
        assert row is not None
        assert row.status == "failed"


async def test_retries_arriving_together_are_recorded_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        outcomes = await asyncio.gather(
            *(playground.bot.accept(dm("evt-burst", "help")) for _ in range(5)),
            playground.bot.accept(dm("evt-other", "help")),
        )
        await playground.bot.settle()

        assert sorted(outcomes) == [False] * 4 + [True] * 2
        assert len(await playground.dm_texts("alex")) == 2


async def test_an_event_whose_row_is_briefly_locked_elsewhere_is_processed_not_dropped(
    postgres_url: str,
) -> None:
    """Claims skip locked rows (for replicas); a row locked for a moment is looked at again."""
    async with running_bot(demo_config(postgres_url)) as playground:
        bot = playground.bot
        async with unit_of_work(bot.sessions) as uow:
            inbox_id = await uow.inbox.record(
                platform="local",
                event_id="evt-locked",
                payload=dm("evt-locked", "help").model_dump(mode="json"),
                now=playground.clock.now(),
            )
        assert inbox_id is not None
        async with bot.engine.connect() as holder:
            transaction = await holder.begin()
            await holder.execute(
                select(InboxEvent.id).where(InboxEvent.id == inbox_id).with_for_update()
            )
            processing = asyncio.create_task(bot.dispatcher.process(inbox_id, None))
            await asyncio.sleep(0.3)
            assert not processing.done(), "it waits for the row instead of giving up"
            await transaction.rollback()
        await processing

        async with unit_of_work(bot.sessions) as uow:
            status = await uow.session.scalar(
                select(InboxEvent.status).where(InboxEvent.id == inbox_id)
            )
            queued = await uow.session.scalar(select(func.count(OutboxMessage.id)))
        assert status == "done"
        assert queued == 1


BREAK_OUTBOX = (
    # A trigger that reads a table that is not there fails every queued reply with an
    # OperationalError, as a full disk does, while the inbox can still be written.
    "CREATE TRIGGER outbox_unwritable BEFORE INSERT ON outbox BEGIN SELECT * FROM disk_is_full; END"
)


def sqlite_file(sqlite_url: str) -> str:
    return sqlite_url.removeprefix("sqlite+aiosqlite:///")


def run_sql(path: str, statement: str) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


async def test_an_event_acknowledged_during_a_database_outage_is_answered_when_it_passes(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        run_sql(sqlite_file(sqlite_url), BREAK_OUTBOX)

        async def outage_passes() -> None:
            await asyncio.sleep(1.2)
            run_sql(sqlite_file(sqlite_url), "DROP TRIGGER outbox_unwritable")

        mending = asyncio.create_task(outage_passes())
        await playground.say("alex", "/cohort cohorts")
        await mending

        replies = [m["message"]["text"] for m in await playground.from_bot("alex")]
        assert any("Pilot cohort A" in text for text in replies), replies
        async with unit_of_work(playground.bot.sessions) as uow:
            (row,) = list(await uow.session.scalars(select(InboxEvent)))
        assert row.status == "done"


async def test_an_event_whose_outage_lasts_is_dead_lettered_and_visible(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.runtime.transient.FIRST_DELAY", 0.01)
    monkeypatch.setattr("bot.runtime.transient.RETRIES", 3)
    async with running_bot(demo_config(sqlite_url)) as playground:
        run_sql(sqlite_file(sqlite_url), BREAK_OUTBOX)

        await playground.say("alex", "/cohort cohorts")

        async with unit_of_work(playground.bot.sessions) as uow:
            (row,) = list(await uow.session.scalars(select(InboxEvent)))
        assert row.status == "failed"
        assert row.error is not None
        assert row.error.startswith("OperationalError")
        assert not playground.bot.dispatcher.busy
