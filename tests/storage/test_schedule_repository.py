"""The schedule repository: timers kept under stable keys, each occurrence claimed once."""

from __future__ import annotations

from datetime import timedelta

from storage.db import SessionFactory
from storage.repositories.schedule import OneOff
from storage.statuses import TimerStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, no_lock_waits

HOUR = timedelta(hours=1)
WEEKLY = {"day_of_week": "mon", "hour": 9, "minute": 30}


async def _one_off(uow: UnitOfWork, key: str, *, in_hours: float = 1) -> int:
    item = await uow.schedule.put(
        key=key, task="remind", due_at=NOW + in_hours * HOUR, payload={"key": key}, now=NOW
    )
    return item.id


async def test_put_replaces_the_timer_with_the_same_key(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        first = await uow.schedule.put(
            key="cohort:pilot-a:checkin",
            task="checkin.open",
            due_at=NOW + HOUR,
            payload={"cohort": "pilot-a"},
            now=NOW,
        )
        assert first.status == TimerStatus.ACTIVE
        assert await uow.schedule.cancel("cohort:pilot-a:checkin") is True
    async with unit_of_work(sessions) as uow:
        again = await uow.schedule.put(
            key="cohort:pilot-a:checkin",
            task="checkin.open.v2",
            due_at=NOW + 2 * HOUR,
            payload={"cohort": "pilot-a", "v": 2},
            now=NOW + HOUR,
            recurrence=WEEKLY,
            time_zone="Europe/Berlin",
        )
    async with unit_of_work(sessions) as uow:
        stored = await uow.schedule.get("cohort:pilot-a:checkin")

    assert again.id == first.id, "the key is the timer's stable id"
    assert stored is not None
    assert stored.status == TimerStatus.ACTIVE, "putting a cancelled timer makes it active"
    assert (stored.task, stored.due_at, stored.payload) == (
        "checkin.open.v2",
        NOW + 2 * HOUR,
        {"cohort": "pilot-a", "v": 2},
    )
    assert (stored.recurrence, stored.time_zone) == (WEEKLY, "Europe/Berlin")
    assert stored.created_at == NOW


async def test_add_if_absent_never_touches_a_timer_that_exists_in_any_state(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        created = await uow.schedule.add_if_absent(
            key="reminder:1", task="remind", due_at=NOW + HOUR, payload={"n": 1}, now=NOW
        )
        await _one_off(uow, "reminder:2")
        await uow.schedule.cancel("reminder:2")
    async with unit_of_work(sessions) as uow:
        over_active = await uow.schedule.add_if_absent(
            key="reminder:1", task="other", due_at=NOW, payload={"n": 9}, now=NOW
        )
        over_cancelled = await uow.schedule.add_if_absent(
            key="reminder:2", task="other", due_at=NOW, payload={"n": 9}, now=NOW
        )
        active = await uow.schedule.get("reminder:1")
        cancelled = await uow.schedule.get("reminder:2")

    assert (created, over_active, over_cancelled) == (True, False, False)
    assert active is not None
    assert (active.task, active.due_at, active.payload) == ("remind", NOW + HOUR, {"n": 1})
    assert (active.status, active.recurrence) == (TimerStatus.ACTIVE, None)
    assert cancelled is not None
    assert cancelled.status == TimerStatus.CANCELLED


async def test_cancel_prefix_cancels_only_active_timers_under_the_prefix(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        for key in ("flow:1:timeout", "flow:1:remind", "flow:1:done", "flow:12:remind", "flow:2"):
            await _one_off(uow, key)
        assert await uow.schedule.cancel("flow:1:done") is True
        assert await uow.schedule.cancel("flow:1:done") is False, "already cancelled"
        assert await uow.schedule.cancel("no-such-timer") is False
    async with unit_of_work(sessions) as uow:
        cancelled = await uow.schedule.cancel_prefix("flow:1:")
        again = await uow.schedule.cancel_prefix("flow:1:")
        due = await uow.schedule.due(NOW + HOUR)

    assert (cancelled, again) == (2, 0)
    assert [item.key for item in due] == ["flow:12:remind", "flow:2"]


async def test_cancel_prefixes_cancels_the_active_timers_under_any_of_them(
    sessions: SessionFactory,
) -> None:
    # More prefixes than one statement takes, so the chunks are seen to add up.
    many = [f"flow:{n}:" for n in range(100, 350)]
    async with unit_of_work(sessions) as uow:
        for key in ("flow:1:remind", "flow:1:give_up", "flow:12:remind", "flow:2:done"):
            await _one_off(uow, key)
        for prefix in many:
            await _one_off(uow, f"{prefix}remind")
        await uow.schedule.cancel("flow:2:done")
    async with unit_of_work(sessions) as uow:
        cancelled = await uow.schedule.cancel_prefixes(["flow:1:", "flow:2:", *many])
        none = await uow.schedule.cancel_prefixes([])
        due = await uow.schedule.due(NOW + HOUR, limit=1000)

    assert (cancelled, none) == (2 + len(many), 0)
    assert [item.key for item in due] == ["flow:12:remind"]


async def test_put_many_sets_each_timer_as_put_would(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        kept = await _one_off(uow, "checkin:1:nudge")
        ran = await _one_off(uow, "checkin:1:close")
        await uow.schedule.cancel("checkin:1:close")
    async with unit_of_work(sessions) as uow:
        await uow.schedule.put_many(
            [
                OneOff("checkin:1:prompt", "checkin.prompt", NOW + HOUR, {"people": [1, 2]}),
                OneOff("checkin:1:nudge", "checkin.nudge", NOW + 2 * HOUR, {"people": [1]}),
                OneOff("checkin:1:close", "checkin.close", NOW + 3 * HOUR, {"round": 1}),
            ],
            now=NOW + HOUR,
        )
        await uow.schedule.put_many([], now=NOW)
    async with unit_of_work(sessions) as uow:
        due = await uow.schedule.due(NOW + 3 * HOUR)

    assert [(item.key, item.task, item.due_at, item.payload) for item in due] == [
        ("checkin:1:prompt", "checkin.prompt", NOW + HOUR, {"people": [1, 2]}),
        ("checkin:1:nudge", "checkin.nudge", NOW + 2 * HOUR, {"people": [1]}),
        ("checkin:1:close", "checkin.close", NOW + 3 * HOUR, {"round": 1}),
    ]
    assert (due[1].id, due[2].id) == (kept, ran), "an existing key is replaced, not added"
    assert [item.created_at for item in due] == [NOW + HOUR, NOW, NOW]
    assert all(item.status == TimerStatus.ACTIVE and item.recurrence is None for item in due)


async def test_due_lists_active_timers_due_by_now_soonest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        await _one_off(uow, "later", in_hours=3)
        await _one_off(uow, "soonest", in_hours=1)
        await _one_off(uow, "exactly-now", in_hours=2)
        await _one_off(uow, "tomorrow", in_hours=24)
        await _one_off(uow, "cancelled", in_hours=0)
        await uow.schedule.cancel("cancelled")

    async with unit_of_work(sessions) as uow:
        due = await uow.schedule.due(NOW + 3 * HOUR)
        limited = await uow.schedule.due(NOW + 3 * HOUR, limit=2)
        nothing = await uow.schedule.due(NOW)
        next_due = await uow.schedule.next_due()

    assert [item.key for item in due] == ["soonest", "exactly-now", "later"]
    assert [item.key for item in limited] == ["soonest", "exactly-now"]
    assert nothing == []
    assert next_due == NOW + HOUR, "a cancelled timer is never next"


async def test_next_due_is_none_without_an_active_timer(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        assert await uow.schedule.next_due() is None
        await _one_off(uow, "only")
        await uow.schedule.cancel("only")
        assert await uow.schedule.next_due() is None


async def test_an_occurrence_is_claimed_once(sessions: SessionFactory) -> None:
    monday, next_monday = NOW, NOW + timedelta(days=7)
    async with unit_of_work(sessions) as uow:
        first = await uow.schedule.claim(
            item_key="cohort:pilot-a:checkin",
            occurrence_at=next_monday,
            claimed_by="node-a",
            now=next_monday,
            outcome="done",
        )
    async with unit_of_work(sessions) as uow:
        second = await uow.schedule.claim(
            item_key="cohort:pilot-a:checkin",
            occurrence_at=next_monday,
            claimed_by="node-b",
            now=next_monday,
            outcome="failed",
        )
        earlier = await uow.schedule.claim(
            item_key="cohort:pilot-a:checkin",
            occurrence_at=monday,
            claimed_by="node-b",
            now=next_monday,
            outcome="missed",
        )
        other_item = await uow.schedule.claim(
            item_key="cohort:pilot-b:checkin",
            occurrence_at=next_monday,
            claimed_by="node-b",
            now=next_monday,
            outcome="done",
        )
        claims = await uow.schedule.claims("cohort:pilot-a:checkin")

    assert (first, second, earlier, other_item) == (True, False, True, True)
    assert [(c.occurrence_at, c.claimed_by, c.outcome) for c in claims] == [
        (monday, "node-b", "missed"),
        (next_monday, "node-a", "done"),
    ]


async def test_lock_takes_only_an_active_timer(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        active = await _one_off(uow, "active")
        cancelled = await _one_off(uow, "cancelled")
        await uow.schedule.cancel("cancelled")

    async with unit_of_work(sessions) as uow:
        locked = await uow.schedule.lock(active)
        assert await uow.schedule.lock(cancelled) is None
        assert await uow.schedule.lock(active + cancelled + 100) is None
        assert locked is not None
        assert locked.key == "active"


async def test_a_timer_locked_by_one_tick_is_skipped_by_another(
    pg_sessions: SessionFactory,
) -> None:
    async with unit_of_work(pg_sessions) as uow:
        item_id = await _one_off(uow, "reminder:1", in_hours=0)

    async with unit_of_work(pg_sessions) as first:
        assert await first.schedule.lock(item_id) is not None
        async with unit_of_work(pg_sessions) as second:
            await no_lock_waits(second)
            assert [item.id for item in await second.schedule.due(NOW)] == [item_id]
            assert await second.schedule.lock(item_id) is None


async def test_put_many_creates_and_replaces_in_one_statement(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        await _one_off(uow, "run:1:ask:remind")
        assert await uow.schedule.cancel("run:1:ask:remind") is True
    async with unit_of_work(sessions) as uow:
        loaded = await uow.schedule.get("run:1:ask:remind")
        assert loaded is not None
        assert loaded.status == TimerStatus.CANCELLED
        await uow.schedule.put_many(
            [
                OneOff("run:1:ask:remind", "flow.remind", NOW + 5 * HOUR, {"run_id": 1}),
                OneOff("run:1:ask:give_up", "flow.give_up", NOW + 9 * HOUR, {"run_id": 1}),
            ],
            now=NOW,
        )
        # The instance loaded before the write tells what was written.
        assert (loaded.task, loaded.status) == ("flow.remind", TimerStatus.ACTIVE)
        assert loaded.due_at == NOW + 5 * HOUR
    async with unit_of_work(sessions) as uow:
        items = {
            key: await uow.schedule.get(key) for key in ("run:1:ask:remind", "run:1:ask:give_up")
        }
    assert {key: (item.task, item.status, item.payload) for key, item in items.items() if item} == {
        "run:1:ask:remind": ("flow.remind", TimerStatus.ACTIVE, {"run_id": 1}),
        "run:1:ask:give_up": ("flow.give_up", TimerStatus.ACTIVE, {"run_id": 1}),
    }
