"""Scheduled work runs once per occurrence: across restarts, replicas, DST and downtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import CohortBot
from bot.runtime.clock import ManualClock
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.recurrence import next_after, weekly
from bot.runtime.scheduler import TaskContext, Timers
from storage.models import Activity, OccurrenceClaim
from storage.uow import unit_of_work
from tests.harness import demo_config

TASK = "test.record"


async def record(ctx: TaskContext) -> None:
    ctx.effects.log("test.ran", object_ref=ctx.item_key, data={"at": ctx.occurrence_at.isoformat()})


async def start_bot(url: str, clock: ManualClock, node: str = "node-a") -> CohortBot:
    bot = CohortBot(demo_config(url), clock=clock, node_id=node)
    bot.tasks.register(TASK, record)
    await bot.prepare()
    return bot


async def runs(bot: CohortBot) -> list[Activity]:
    async with unit_of_work(bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == "test.ran").order_by(Activity.id)
            )
        )


def occurrences(
    rule: dict[str, object], time_zone: str, after: datetime, count: int
) -> list[datetime]:
    found: list[datetime] = []
    while len(found) < count:
        following = next_after(dict(rule), time_zone, found[-1] if found else after)
        assert following is not None
        found.append(following.astimezone(UTC))
    return found


def test_a_weekly_rule_keeps_its_wall_clock_time_across_dst() -> None:
    rule = weekly(day_of_week="mon", hour=9, minute=0)
    # Berlin leaves summer time on 25 October 2026: 09:00 is 07:00 UTC, then 08:00 UTC.
    assert occurrences(rule, "Europe/Berlin", datetime(2026, 10, 10, tzinfo=UTC), 4) == [
        datetime(2026, 10, 12, 7, tzinfo=UTC),
        datetime(2026, 10, 19, 7, tzinfo=UTC),
        datetime(2026, 10, 26, 8, tzinfo=UTC),
        datetime(2026, 11, 2, 8, tzinfo=UTC),
    ]


def test_a_biweekly_rule_skips_alternate_weeks() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rule = weekly(day_of_week="wed", hour=15, minute=0, every_weeks=2, start=start.date())
    days = [moment.date().isoformat() for moment in occurrences(rule, "America/New_York", start, 3)]
    assert days == ["2026-11-04", "2026-11-18", "2026-12-02"]


async def test_a_repeating_timer_fires_at_its_wall_clock_time_after_dst(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 10, 24, tzinfo=UTC))
    bot = await start_bot(sqlite_url, clock)
    try:
        async with unit_of_work(bot.sessions) as uow:
            await Timers(uow, clock.now()).run_repeating(
                key="cohort:pilot-a:checkin",
                task=TASK,
                rule=weekly(day_of_week="mon", hour=9, minute=0),
                time_zone="Europe/Berlin",
            )
        # Monday 09:00 in Berlin after the clocks went back on Sunday is 08:00 UTC.
        clock.advance(datetime(2026, 10, 26, 7, 59, tzinfo=UTC) - clock.now())
        await bot.scheduler.tick()
        assert await runs(bot) == []

        clock.advance(timedelta(minutes=1))
        await bot.scheduler.tick()
        (ran,) = await runs(bot)
        assert datetime.fromisoformat(ran.data["at"]) == datetime(2026, 10, 26, 8, tzinfo=UTC)
    finally:
        await bot.stop()


async def test_occurrence_runs_once_across_a_restart(database_url: str) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    bot = await start_bot(database_url, clock)
    async with unit_of_work(bot.sessions) as uow:
        await Timers(uow, clock.now()).run_once(
            key="review:7:deadline", task=TASK, at=clock.now() + timedelta(hours=1)
        )
    clock.advance(timedelta(hours=2))
    await bot.scheduler.tick()
    assert len(await runs(bot)) == 1
    await bot.stop()

    # The shipped app.yaml has timers of its own (the badge pass), so count this one's runs.
    reopened = await start_bot(database_url, clock)
    try:
        await reopened.scheduler.tick()
        clock.advance(timedelta(days=1))
        await reopened.scheduler.tick()
        assert len(await runs(reopened)) == 1
    finally:
        await reopened.stop()


async def test_two_processes_on_one_postgres_run_each_occurrence_once(postgres_url: str) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    first = await start_bot(postgres_url, clock, "node-a")
    second = await start_bot(postgres_url, clock, "node-b")
    try:
        async with unit_of_work(first.sessions) as uow:
            timers = Timers(uow, clock.now())
            for n in range(30):
                await timers.run_once(
                    key=f"reminder:{n}", task=TASK, at=clock.now() + timedelta(minutes=n)
                )
            await timers.run_repeating(
                key="cohort:pilot-a:checkin",
                task=TASK,
                rule=weekly(day_of_week="mon", hour=9, minute=30),
                time_zone="Europe/Berlin",
            )
        for _ in range(12):
            clock.advance(timedelta(minutes=5))
            await asyncio.gather(first.scheduler.tick(), second.scheduler.tick())

        ran = [a.object for a in await runs(first)]
        assert sorted(ran) == sorted(
            [f"reminder:{n}" for n in range(30)] + ["cohort:pilot-a:checkin"]
        )
        async with unit_of_work(first.sessions) as uow:
            claims = list(
                await uow.session.scalars(
                    select(OccurrenceClaim).where(
                        OccurrenceClaim.item_key.startswith("reminder:")
                        | (OccurrenceClaim.item_key == "cohort:pilot-a:checkin")
                    )
                )
            )
        assert len(claims) == 31
    finally:
        await first.stop()
        await second.stop()


async def test_downtime_within_grace_is_caught_up_and_beyond_it_skipped(
    sqlite_url: str,
) -> None:
    clock = ManualClock(datetime(2026, 11, 22, 12, tzinfo=UTC))  # a Sunday
    bot = await start_bot(sqlite_url, clock)
    async with unit_of_work(bot.sessions) as uow:
        await Timers(uow, clock.now()).run_repeating(
            key="cohort:pilot-a:checkin",
            task=TASK,
            rule=weekly(day_of_week="mon", hour=9, minute=0),
            time_zone="UTC",
        )
    await bot.stop()

    clock.set(datetime(2026, 11, 23, 9, 40, tzinfo=UTC))  # 40 minutes late: within an hour
    bot = await start_bot(sqlite_url, clock)
    await bot.scheduler.tick()
    await bot.stop()

    clock.set(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))  # four hours late: skipped
    bot = await start_bot(sqlite_url, clock)
    try:
        await bot.scheduler.tick()
        assert [a.data["at"][:10] for a in await runs(bot)] == ["2026-11-23"]
        async with unit_of_work(bot.sessions) as uow:
            claims = await uow.schedule.claims("cohort:pilot-a:checkin")
            item = await uow.schedule.get("cohort:pilot-a:checkin")
        assert [c.outcome for c in claims] == ["done", "missed"]
        assert item is not None
        assert item.due_at == datetime(2026, 12, 7, 9, tzinfo=UTC)
    finally:
        await bot.stop()


async def test_a_failing_task_is_recorded_and_does_not_block_others(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    bot = await start_bot(sqlite_url, clock)

    async def broken(_ctx: TaskContext) -> None:
        raise RuntimeError("task bug")

    bot.tasks.register("test.broken", broken)
    try:
        async with unit_of_work(bot.sessions) as uow:
            timers = Timers(uow, clock.now())
            await timers.run_once(key="a-broken", task="test.broken", at=clock.now())
            await timers.run_once(key="b-fine", task=TASK, at=clock.now())
        await bot.scheduler.tick()
        await bot.scheduler.tick()

        assert [a.object for a in await runs(bot)] == ["b-fine"]
        async with unit_of_work(bot.sessions) as uow:
            claims = await uow.schedule.claims("a-broken")
        assert [c.outcome for c in claims] == ["failed"]
    finally:
        await bot.stop()


async def test_cancelled_timer_never_runs(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    bot = await start_bot(sqlite_url, clock)
    try:
        async with unit_of_work(bot.sessions) as uow:
            timers = Timers(uow, clock.now())
            await timers.run_once(key="x", task=TASK, at=clock.now() + timedelta(minutes=5))
            assert await timers.cancel("x")
        clock.advance(timedelta(hours=1))
        await bot.scheduler.tick()
        assert await runs(bot) == []
    finally:
        await bot.stop()


async def test_cohort_schedules_installed_at_each_start_keep_a_missed_occurrence(
    sqlite_url: str,
) -> None:
    """A restart re-installs cadences without pushing back one that fell due meanwhile."""
    clock = ManualClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # Monday, 08:00 Berlin

    async def install(ctx: CohortSetupContext) -> None:
        await ctx.timers.ensure_repeating(
            key=f"cohort:{ctx.cohort.key}:test",
            task=TASK,
            rule=weekly(day_of_week="mon", hour=9, minute=0),
            time_zone=ctx.cohort.time_zone,
        )

    async def start() -> CohortBot:
        bot = CohortBot(demo_config(sqlite_url), clock=clock, node_id="node-a")
        bot.tasks.register(TASK, record)
        bot.cohort_setup.register(install)
        await bot.prepare()
        return bot

    first = await start()
    await first.stop()
    clock.advance(timedelta(hours=1, minutes=20))  # down over Monday 09:00 Berlin
    second = await start()
    try:
        await second.scheduler.tick()
        ran = await runs(second)
        assert [r.data["at"] for r in ran] == ["2026-11-23T08:00:00+00:00"]
        async with unit_of_work(second.sessions) as uow:
            item = await uow.schedule.get("cohort:pilot-a:test")
        assert item is not None
        assert item.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    finally:
        await second.stop()


async def test_on_postgres_cohorts_timers_overlap_but_one_cohorts_run_in_order(
    postgres_url: str,
) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    bot = CohortBot(demo_config(postgres_url), clock=clock)
    running: set[int] = set()
    overlapped: list[tuple[int, int]] = []
    order: dict[int, list[str]] = {1: [], 2: []}

    async def slow(ctx: TaskContext) -> None:
        cohort = int(ctx.payload["cohort_id"])
        assert cohort not in running, "one cohort's timers never overlap"
        overlapped.extend((cohort, other) for other in running)
        running.add(cohort)
        await asyncio.sleep(0.05)
        order[cohort].append(ctx.item_key)
        running.discard(cohort)

    bot.tasks.register("test.slow", slow)
    await bot.prepare()
    try:
        async with unit_of_work(bot.sessions) as uow:
            timers = Timers(uow, clock.now())
            for n in range(3):
                for cohort in (1, 2):
                    await timers.run_once(
                        key=f"c{cohort}:{n}",
                        task="test.slow",
                        at=clock.now() + timedelta(minutes=n),
                        payload={"cohort_id": cohort},
                    )
        clock.advance(timedelta(hours=1))
        await bot.scheduler.tick()
    finally:
        await bot.stop()

    assert order == {1: ["c1:0", "c1:1", "c1:2"], 2: ["c2:0", "c2:1", "c2:2"]}
    assert overlapped, "different cohorts ran side by side"
