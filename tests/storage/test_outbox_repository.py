"""The outbox repository: queued once per key, sent in lane order, settled in one write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.db import SessionFactory
from storage.repositories.outbox import OutboxRow
from storage.statuses import OutboxStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_people

MINUTE = timedelta(minutes=1)


async def _queue(
    uow: UnitOfWork,
    key: str,
    *,
    lane: str = "dm:alex",
    workspace: str = "T1",
    platform: str = "slack",
    now: datetime = NOW,
    **extra: Any,
) -> int:
    """Queue a message due at `now` (its first attempt); returns its id."""
    outbox_id = await uow.outbox.enqueue(
        OutboxRow(
            idempotency_key=key,
            platform=platform,
            workspace=workspace,
            lane=lane,
            target={"lane": lane},
            message={"text": key},
            now=now,
            **extra,
        )
    )
    assert outbox_id is not None
    return outbox_id


def _ids(rows: list[Any]) -> list[int]:
    return [row.id for row in rows]


async def test_a_message_queued_twice_under_one_key_is_stored_once(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        first = await _queue(uow, "in:slack:Ev1#1")
    async with unit_of_work(sessions) as uow:
        again = await uow.outbox.enqueue(
            OutboxRow(
                idempotency_key="in:slack:Ev1#1",
                platform="slack",
                workspace="T1",
                lane="dm:alex",
                target={},
                message={"text": "a retried event's reply"},
                now=NOW + MINUTE,
            )
        )
        rows = await uow.outbox.pending(10)

    assert again is None
    assert _ids(rows) == [first]
    row = rows[0]
    assert (row.status, row.attempts, row.message) == (
        OutboxStatus.PENDING,
        0,
        {"text": "in:slack:Ev1#1"},
    )
    assert row.next_attempt_at == NOW
    assert row.created_at == NOW


async def test_ready_takes_due_rows_in_queue_order_unless_an_earlier_row_of_the_lane_waits(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a1 = await _queue(uow, "a1", lane="a", now=NOW - MINUTE)
        waiting = await _queue(uow, "b1", lane="b", now=NOW + 5 * MINUTE)
        await _queue(uow, "b2", lane="b")
        a2 = await _queue(uow, "a2", lane="a")
        c1 = await _queue(uow, "c1", lane="c")
        await _queue(uow, "c2", lane="c", now=NOW + MINUTE)
        sent = await _queue(uow, "d1", lane="d")
    async with unit_of_work(sessions) as uow:
        await uow.outbox.settle([{"id": sent, "status": OutboxStatus.SENT}])

    async with unit_of_work(sessions) as uow:
        ready = await uow.outbox.ready(NOW, 10)
        first_two = await uow.outbox.ready(NOW, 2)
        later = await uow.outbox.ready(NOW + 5 * MINUTE, 10)
        pending = await uow.outbox.pending(10)
        next_retry = await uow.outbox.next_retry()

    assert _ids(ready) == [a1, a2, c1], "b2 waits behind b1; a later waiting c2 holds no one"
    assert _ids(first_two) == [a1, a2]
    assert waiting in _ids(later)
    assert len(later) == 6
    assert sent not in _ids(pending)
    assert len(pending) == 6, "pending is the whole queue, due or not"
    assert next_retry == NOW - MINUTE


async def test_ready_leaves_out_held_lanes_and_workspaces(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        await _queue(uow, "1", lane="a", workspace="T1")
        b = await _queue(uow, "2", lane="b", workspace="T1")
        await _queue(uow, "3", lane="c", workspace="T2")
        d = await _queue(uow, "4", lane="d", workspace="T3")

    async with unit_of_work(sessions) as uow:
        ready = await uow.outbox.ready(NOW, 10, skip_lanes={"a"}, skip_workspaces={"T2"})

    assert _ids(ready) == [b, d]


async def test_settled_outcomes_take_rows_out_of_the_queue_or_set_their_retry(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        older_dead = await _queue(uow, "older-dead", lane="e")
        sent = await _queue(uow, "sent", lane="a")
        retry = await _queue(uow, "retry", lane="b")
        dead = await _queue(uow, "dead", lane="c")
        superseded = await _queue(uow, "superseded", lane="d")
    async with unit_of_work(sessions) as uow:
        await uow.outbox.settle([])
        await uow.outbox.settle(
            [
                {"id": older_dead, "status": OutboxStatus.DEAD, "attempts": 5},
                {
                    "id": sent,
                    "status": OutboxStatus.SENT,
                    "attempts": 1,
                    "platform_ref": "1700000000.0001",
                    "sent_at": NOW,
                    "last_error": None,
                },
                {
                    "id": retry,
                    "status": OutboxStatus.PENDING,
                    "attempts": 1,
                    "last_error": "rate limited",
                    "next_attempt_at": NOW + MINUTE,
                },
                {"id": dead, "status": OutboxStatus.DEAD, "attempts": 1, "last_error": "gone"},
                {"id": superseded, "status": OutboxStatus.SUPERSEDED},
            ]
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.outbox.ready(NOW, 10) == []
        assert _ids(await uow.outbox.ready(NOW + MINUTE, 10)) == [retry]
        assert await uow.outbox.next_retry() == NOW + MINUTE
        assert await uow.outbox.depth() == {
            OutboxStatus.SENT: 1,
            OutboxStatus.PENDING: 1,
            OutboxStatus.DEAD: 2,
            OutboxStatus.SUPERSEDED: 1,
        }
        assert _ids(await uow.outbox.dead_letters()) == [dead, older_dead], "newest first"
        assert _ids(await uow.outbox.dead_letters(limit=1)) == [dead]
        delivered = await uow.outbox.get(sent)
        waiting = await uow.outbox.get(retry)
        assert await uow.outbox.get(superseded + 100) is None

    assert delivered is not None
    assert (delivered.status, delivered.attempts) == (OutboxStatus.SENT, 1)
    assert (delivered.platform_ref, delivered.sent_at) == ("1700000000.0001", NOW)
    assert waiting is not None
    assert (waiting.attempts, waiting.last_error) == (1, "rate limited")


async def test_release_stuck_requeues_only_rows_whose_sending_lease_ran_out(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        stuck = await _queue(uow, "stuck", lane="a")
        busy = await _queue(uow, "busy", lane="b")
        sent = await _queue(uow, "sent", lane="c")
    async with unit_of_work(sessions) as uow:
        await uow.outbox.settle(
            [
                {"id": stuck, "status": OutboxStatus.SENDING, "next_attempt_at": NOW - MINUTE},
                {"id": busy, "status": OutboxStatus.SENDING, "next_attempt_at": NOW + MINUTE},
                {"id": sent, "status": OutboxStatus.SENT, "next_attempt_at": NOW - MINUTE},
            ]
        )

    async with unit_of_work(sessions) as uow:
        released = await uow.outbox.release_stuck(older_than=NOW)
    async with unit_of_work(sessions) as uow:
        again = await uow.outbox.release_stuck(older_than=NOW)
        statuses = {row_id: (await uow.outbox.get(row_id)) for row_id in (stuck, busy, sent)}

    assert (released, again) == (1, 0)
    assert {row_id: row.status for row_id, row in statuses.items() if row} == {
        stuck: OutboxStatus.PENDING,
        busy: OutboxStatus.SENDING,
        sent: OutboxStatus.SENT,
    }


async def test_sent_ref_is_the_latest_original_under_a_key_in_one_lane(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        old = await _queue(uow, "1", lane="#general", ref_key="digest:1")
        new = await _queue(uow, "2", lane="#general", ref_key="digest:1")
        update = await _queue(
            uow, "3", lane="#general", ref_key="digest:1", update_of_key="digest:1"
        )
        other_lane = await _queue(uow, "4", lane="#mods", ref_key="digest:1")
        teams = await _queue(uow, "5", lane="#general", platform="teams", ref_key="digest:1")
    async with unit_of_work(sessions) as uow:
        await uow.outbox.settle(
            [
                {"id": old, "status": OutboxStatus.SENT, "platform_ref": "ts-1"},
                {"id": new, "status": OutboxStatus.SENT, "platform_ref": "ts-2"},
                {"id": update, "status": OutboxStatus.SENT, "platform_ref": "ts-3"},
            ]
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.outbox.sent_ref("digest:1", "slack", "#general") == (
            OutboxStatus.SENT,
            "ts-2",
        )
        assert await uow.outbox.sent_ref("digest:1", "slack", "#mods") == (
            OutboxStatus.PENDING,
            "",
        ), "queued, not sent yet: no platform reference"
        assert await uow.outbox.sent_ref("digest:2", "slack", "#general") is None
        originals = await uow.outbox.refs("digest:1")

    assert _ids(originals) == [old, new, other_lane, teams], "updates are not originals"


async def test_a_persons_deliveries_are_listed_newest_first_and_counted(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex, sam = await add_people(uow, "Alex", "Sam")
        first = await _queue(uow, "1", person_id=alex)
        await _queue(uow, "2", person_id=sam)
        second = await _queue(uow, "3", person_id=alex)
        third = await _queue(uow, "4", person_id=alex)
        await _queue(uow, "5")

    async with unit_of_work(sessions) as uow:
        assert _ids(await uow.outbox.for_person(alex)) == [third, second, first]
        assert _ids(await uow.outbox.for_person(alex, limit=2)) == [third, second]
        assert await uow.outbox.count_for_person(alex) == 3
        assert await uow.outbox.count_for_person(sam) == 1
        assert await uow.outbox.for_person(sam + alex + 100) == []
