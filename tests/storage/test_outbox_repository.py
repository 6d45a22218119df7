"""The outbox repository: queued once per key, sent in lane order, settled in one write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.db import SessionFactory
from storage.repositories.outbox import OutboxRow
from storage.statuses import DeliveryClass, OutboxStatus
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


async def test_ready_offers_each_lane_its_first_row_when_that_row_is_due(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a1 = await _queue(uow, "a1", lane="a", now=NOW - MINUTE)
        waiting = await _queue(uow, "b1", lane="b", now=NOW + 5 * MINUTE)
        await _queue(uow, "b2", lane="b")
        await _queue(uow, "a2", lane="a")
        c1 = await _queue(uow, "c1", lane="c")
        await _queue(uow, "c2", lane="c", now=NOW + MINUTE)
        sent = await _queue(uow, "d1", lane="d")
        in_flight = await _queue(uow, "e1", lane="e")
        await _queue(uow, "e2", lane="e")
    async with unit_of_work(sessions) as uow:
        await uow.outbox.settle([{"id": sent, "status": OutboxStatus.SENT}])
        assert await uow.outbox.claim({in_flight, sent}) == {in_flight}, "only waiting rows"

    async with unit_of_work(sessions) as uow:
        ready = await uow.outbox.ready(NOW, 10)
        first = await uow.outbox.ready(NOW, 1)
        later = await uow.outbox.ready(NOW + 5 * MINUTE, 10)
        pending = await uow.outbox.pending(10)
        next_retry = await uow.outbox.next_retry()
        claimed = await uow.outbox.in_flight()

    assert _ids(ready) == [a1, c1], "b2 waits behind b1, e2 behind e1 in flight"
    assert _ids(first) == [a1]
    assert _ids(later) == [a1, waiting, c1]
    assert sent not in _ids(pending)
    assert len(pending) == 7, "pending is the whole queue, due or not"
    assert next_retry == NOW - MINUTE
    assert _ids(claimed) == [in_flight]


async def test_ready_puts_replies_first_and_lets_bulk_take_turns_by_fair_key(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        big = [await _queue(uow, f"big{n}", lane=f"big{n}", fair_key="cohort:1") for n in range(4)]
        small = await _queue(uow, "small", lane="small", fair_key="cohort:2")
        reply = await _queue(uow, "reply", lane="r", delivery_class=DeliveryClass.REPLY)

    async with unit_of_work(sessions) as uow:
        ready = await uow.outbox.ready(NOW, 10)
        three = await uow.outbox.ready(NOW, 3)

    assert _ids(ready) == [reply, big[0], small, big[1], big[2], big[3]]
    assert _ids(three) == [reply, big[0], small], "the small cohort is not behind the big one"


async def test_ready_leaves_out_held_workspaces_except_their_replies(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a = await _queue(uow, "1", lane="a", workspace="T1")
        await _queue(uow, "2", lane="b", workspace="T2")
        reply = await _queue(uow, "3", lane="c", workspace="T2", delivery_class=DeliveryClass.REPLY)
        elsewhere = await _queue(uow, "4", lane="d", workspace="T2", platform="teams")

    async with unit_of_work(sessions) as uow:
        ready = await uow.outbox.ready(NOW, 10, held_workspaces={("slack", "T2")})

    assert _ids(ready) == [reply, a, elsewhere], "a workspace is held on its own platform only"


async def test_older_pending_updates_of_one_message_are_superseded_by_the_newest(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        first = await _queue(uow, "u1", lane="a", update_of_key="poll:1")
        second = await _queue(uow, "u2", lane="a", update_of_key="poll:1")
        newest = await _queue(uow, "u3", lane="a", update_of_key="poll:1")
        other = await _queue(uow, "o1", lane="a", update_of_key="poll:2")
    async with unit_of_work(sessions) as uow:
        row = await uow.outbox.get(first)
        assert row is not None
        assert await uow.outbox.supersede_older_updates(row) == 2
    async with unit_of_work(sessions) as uow:
        last = await uow.outbox.get(newest)
        assert last is not None
        assert await uow.outbox.supersede_older_updates(last) == 0
        statuses = [(await uow.outbox.get(i)) for i in (first, second, newest, other)]

    assert [row.status for row in statuses if row] == [
        OutboxStatus.SUPERSEDED,
        OutboxStatus.SUPERSEDED,
        OutboxStatus.PENDING,
        OutboxStatus.PENDING,
    ]


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


async def test_many_messages_are_queued_at_once_and_a_known_key_is_skipped(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        known = await _queue(uow, "task:round#2")

    def row(key: str, lane: str) -> OutboxRow:
        return OutboxRow(
            idempotency_key=key,
            platform="slack",
            workspace="T1",
            lane=lane,
            target={"lane": lane},
            message={"text": key},
            now=NOW,
            fair_key="cohort:1",
        )

    async with unit_of_work(sessions) as uow:
        new = await uow.outbox.enqueue_many(
            [
                row("task:round#1", "dm:alex"),
                row("task:round#2", "dm:sam"),
                row("task:round#3", "dm:alex"),
            ]
        )
        none = await uow.outbox.enqueue_many([])
        pending = await uow.outbox.pending(10)

    assert none == []
    assert [(m.idempotency_key, m.lane) for m in pending] == [
        ("task:round#2", "dm:alex"),
        ("task:round#1", "dm:alex"),
        ("task:round#3", "dm:alex"),
    ]
    assert [m.id for m in pending] == [known, *new], "queued in the order given"
    assert [(m.message, m.fair_key, m.status) for m in pending[1:]] == [
        ({"text": "task:round#1"}, "cohort:1", OutboxStatus.PENDING),
        ({"text": "task:round#3"}, "cohort:1", OutboxStatus.PENDING),
    ]
