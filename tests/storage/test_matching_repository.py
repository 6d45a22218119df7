"""The matching repository: each cycle's groups, in order, and who said they met."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import SessionFactory
from storage.repositories.matching import NewGroup
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people, wait_until_blocked

WEEK = timedelta(days=7)


async def test_last_cycle_is_zero_before_the_first_and_the_latest_after(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        await uow.matching.lock_cohort(a)
        assert await uow.matching.last_cycle(a) == 0
        pair = [NewGroup(members=(alex, sam), mentor_id=None, reasons=())]
        await uow.matching.save_cycle(cohort_id=a, cycle=1, mode="pairs", groups=pair, now=NOW)
        await uow.matching.save_cycle(
            cohort_id=a, cycle=2, mode="pairs", groups=pair, now=NOW + WEEK
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.matching.last_cycle(a) == 2
        assert await uow.matching.last_cycle(b) == 0


async def test_a_cycle_is_stored_in_the_order_given_and_read_back_whole(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        a, b, c, d, e, mentor = await add_people(uow, "A", "B", "C", "D", "E", "Mentor")
        saved = await uow.matching.save_cycle(
            cohort_id=cohort,
            cycle=1,
            mode="triads",
            groups=[
                NewGroup(members=(d, e), mentor_id=None, reasons=("new pair",)),
                NewGroup(members=(a, b, c), mentor_id=mentor, reasons=("skills", "time zone")),
            ],
            now=NOW,
        )
        assert (
            await uow.matching.save_cycle(
                cohort_id=cohort, cycle=2, mode="pairs", groups=[], now=NOW
            )
            == []
        )

    async with unit_of_work(sessions) as uow:
        cycle = await uow.matching.cycle(cohort, 1)
        one = await uow.matching.get(saved[1].id)
        assert await uow.matching.get(saved[1].id + 100) is None

    assert [group.id for group in cycle] == [group.id for group in saved]
    assert [group.members for group in cycle] == [[d, e], [a, b, c]]
    assert one is not None
    assert (one.mode, one.mentor_id, one.reasons, one.met) == (
        "triads",
        mentor,
        ["skills", "time zone"],
        {},
    )
    assert one.created_at == NOW


async def test_history_is_every_group_of_the_cohort_oldest_cycle_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        a, b, c, d = await add_people(uow, "A", "B", "C", "D")

        async def save(cohort_id: int, cycle: int, *groups: tuple[int, ...]) -> None:
            await uow.matching.save_cycle(
                cohort_id=cohort_id,
                cycle=cycle,
                mode="pairs",
                groups=[NewGroup(members=g, mentor_id=None, reasons=()) for g in groups],
                now=NOW + cycle * WEEK,
            )

        await save(cohort, 2, (a, c), (b, d))
        await save(cohort, 1, (a, b), (c, d))
        await save(other, 1, (a, d))

    async with unit_of_work(sessions) as uow:
        history = await uow.matching.history(cohort)

    assert [(g.cycle, g.members) for g in history] == [
        (1, [a, b]),
        (1, [c, d]),
        (2, [a, c]),
        (2, [b, d]),
    ]


async def test_did_you_meet_answers_accumulate_per_member(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        (group,) = await uow.matching.save_cycle(
            cohort_id=cohort,
            cycle=1,
            mode="pairs",
            groups=[NewGroup(members=(alex, sam), mentor_id=None, reasons=())],
            now=NOW,
        )
    async with unit_of_work(sessions) as uow:
        await uow.matching.record_met(group.id, alex, met=True)
    async with unit_of_work(sessions) as uow:
        await uow.matching.record_met(group.id, sam, met=False)
        assert await uow.matching.record_met(group.id + 100, sam, met=True) is None
    async with unit_of_work(sessions) as uow:
        changed_mind = await uow.matching.record_met(group.id, sam, met=True)
    async with unit_of_work(sessions) as uow:
        stored = await uow.matching.get(group.id)

    assert changed_mind is not None
    assert stored is not None
    assert stored.met == {str(alex): True, str(sam): True}


async def test_a_locked_cohort_holds_a_second_matching_run_until_the_first_commits(
    pg_sessions: SessionFactory,
) -> None:
    async with unit_of_work(pg_sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")

    async def second_run() -> int:
        async with unit_of_work(pg_sessions) as second:
            await second.matching.lock_cohort(cohort)
            return await second.matching.last_cycle(cohort) + 1

    async with unit_of_work(pg_sessions) as first:
        await first.matching.lock_cohort(cohort)
        racing = asyncio.create_task(second_run())
        await wait_until_blocked(first)
        number = await first.matching.last_cycle(cohort) + 1
        await first.matching.save_cycle(
            cohort_id=cohort,
            cycle=number,
            mode="pairs",
            groups=[NewGroup(members=(alex, sam), mentor_id=None, reasons=())],
            now=NOW,
        )

    assert number == 1
    assert await racing == 2, "the second run numbers its cycle after the first one's"
