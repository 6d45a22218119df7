"""The inbox repository: each platform event recorded once, claimed while pending."""

from __future__ import annotations

import asyncio

from storage.db import SessionFactory
from storage.statuses import InboxStatus
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, no_lock_waits, wait_until_blocked


async def test_an_event_recorded_twice_is_stored_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        first = await uow.inbox.record(
            platform="slack", event_id="Ev1", payload={"text": "hi"}, now=NOW
        )
    assert first is not None
    async with unit_of_work(sessions) as uow:
        again = await uow.inbox.record(
            platform="slack", event_id="Ev1", payload={"text": "retried"}, now=NOW
        )
        assert await uow.inbox.count() == 1
        row = await uow.inbox.claim(first)

    assert again is None
    assert row is not None
    assert (row.payload, row.status, row.attempts) == ({"text": "hi"}, InboxStatus.PENDING, 0)
    assert row.received_at == NOW


async def test_the_same_event_id_on_another_platform_is_another_event(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        slack = await uow.inbox.record(platform="slack", event_id="42", payload={}, now=NOW)
        teams = await uow.inbox.record(platform="teams", event_id="42", payload={}, now=NOW)
        assert await uow.inbox.count() == 2

    assert slack is not None
    assert teams is not None
    assert slack != teams


async def test_a_batch_marks_repeats_seen_before_and_within_itself(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        earlier = await uow.inbox.record(platform="slack", event_id="a", payload={}, now=NOW)
        assert await uow.inbox.record_many([], now=NOW) == []
    async with unit_of_work(sessions) as uow:
        ids = await uow.inbox.record_many(
            [
                ("slack", "a", {"n": 1}),
                ("slack", "b", {"n": 2}),
                ("slack", "b", {"n": 3}),
                ("teams", "a", {"n": 4}),
            ],
            now=NOW,
        )
        pending = await uow.inbox.pending_ids()

    assert earlier is not None
    assert ids[0] is None, "seen in an earlier batch"
    assert ids[1] is not None
    assert ids[2] is None, "a repeat inside the batch is new only the first time"
    assert ids[3] is not None
    assert pending == [earlier, ids[1], ids[3]]


async def test_only_pending_events_are_claimed_listed_and_counted(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        ids = await uow.inbox.record_many([("slack", f"e{n}", {"n": n}) for n in range(4)], now=NOW)
    first, second, third, fourth = (inbox_id for inbox_id in ids if inbox_id is not None)
    async with unit_of_work(sessions) as uow:
        done = await uow.inbox.claim(first)
        failed = await uow.inbox.claim(second)
        assert done is not None
        assert failed is not None
        done.status, done.processed_at = InboxStatus.DONE, NOW
        failed.status, failed.error = InboxStatus.FAILED, "boom"

    async with unit_of_work(sessions) as uow:
        assert await uow.inbox.claim(first) is None
        assert await uow.inbox.claim(second) is None
        assert await uow.inbox.is_pending(first) is False
        assert await uow.inbox.is_pending(third) is True
        assert await uow.inbox.is_pending(fourth + 100) is False, "an unknown id is not pending"
        assert await uow.inbox.pending_ids() == [third, fourth]
        assert await uow.inbox.pending_ids(limit=1) == [third]
        assert await uow.inbox.count() == 4
        assert await uow.inbox.count(InboxStatus.PENDING) == 2
        assert await uow.inbox.count(InboxStatus.DONE) == 1
        assert await uow.inbox.count(InboxStatus.FAILED) == 1


async def test_an_event_claimed_by_one_replica_is_skipped_not_waited_for_by_another(
    pg_sessions: SessionFactory,
) -> None:
    async with unit_of_work(pg_sessions) as uow:
        inbox_id = await uow.inbox.record(platform="slack", event_id="E", payload={}, now=NOW)
    assert inbox_id is not None

    async with unit_of_work(pg_sessions) as first:
        assert await first.inbox.claim(inbox_id) is not None
        async with unit_of_work(pg_sessions) as second:
            await no_lock_waits(second)
            assert await second.inbox.claim(inbox_id) is None
            assert await second.inbox.is_pending(inbox_id), "held, not processed: try again"


async def test_two_replicas_recording_one_event_at_once_store_it_once(
    pg_sessions: SessionFactory,
) -> None:
    async def record_again() -> int | None:
        async with unit_of_work(pg_sessions) as second:
            return await second.inbox.record(
                platform="slack", event_id="E", payload={"from": "second"}, now=NOW
            )

    async with unit_of_work(pg_sessions) as first:
        recorded = await first.inbox.record(
            platform="slack", event_id="E", payload={"from": "first"}, now=NOW
        )
        racing = asyncio.create_task(record_again())
        await wait_until_blocked(first)

    assert recorded is not None
    assert await racing is None
    async with unit_of_work(pg_sessions) as uow:
        row = await uow.inbox.claim(recorded)
        assert await uow.inbox.count() == 1
    assert row is not None
    assert row.payload == {"from": "first"}
