"""The badge repository: awards recorded once, kudos counted, rule facts read from the log."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.db import SessionFactory
from storage.repositories.badges import NewAwardRow
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people, wait_until_blocked

DAY = timedelta(days=1)


async def test_an_award_already_held_is_not_recorded_or_announced_again(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        first = await uow.badges.award(
            cohort_id=a, awards=[NewAwardRow(alex, "first-checkin")], now=NOW
        )
        assert await uow.badges.award(cohort_id=a, awards=[], now=NOW) == set()
    async with unit_of_work(sessions) as uow:
        second = await uow.badges.award(
            cohort_id=a,
            awards=[
                NewAwardRow(sam, "first-checkin"),
                NewAwardRow(alex, "first-checkin"),
                NewAwardRow(alex, "helper", source="manual", awarded_by=sam, reason="thanks"),
            ],
            now=NOW + DAY,
        )
        elsewhere = await uow.badges.award(
            cohort_id=b, awards=[NewAwardRow(alex, "first-checkin")], now=NOW
        )
        held = await uow.badges.held(a)

    assert first == {(alex, "first-checkin")}
    assert second == {(sam, "first-checkin"), (alex, "helper")}
    assert elsewhere == {(alex, "first-checkin")}, "held in another cohort is not held here"
    assert held == {(alex, "first-checkin"), (sam, "first-checkin"), (alex, "helper")}


async def test_a_batch_larger_than_one_statement_records_every_award(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.repositories.badges.AWARDS_PER_STATEMENT", 2)
    badges = ["first-checkin", "helper", "streak"]
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        await uow.badges.award(cohort_id=cohort, awards=[NewAwardRow(sam, badges[0])], now=NOW)
    async with unit_of_work(sessions) as uow:
        recorded = await uow.badges.award(
            cohort_id=cohort,
            awards=[NewAwardRow(person, badge) for badge in badges for person in (sam, alex)],
            now=NOW,
        )
        held = await uow.badges.held(cohort)

    every = {(person, badge) for badge in badges for person in (sam, alex)}
    assert recorded == every - {(sam, badges[0])}, "three statements; the held award left out"
    assert held == every


async def test_awards_read_back_oldest_first_per_cohort_and_per_person(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        await uow.badges.award(cohort_id=a, awards=[NewAwardRow(alex, "later")], now=NOW + DAY)
        await uow.badges.award(
            cohort_id=a,
            awards=[NewAwardRow(sam, "early"), NewAwardRow(alex, "early")],
            now=NOW,
        )
        await uow.badges.award(cohort_id=b, awards=[NewAwardRow(alex, "other")], now=NOW)

    async with unit_of_work(sessions) as uow:
        in_a = await uow.badges.of_cohort(a)
        alex_in_a = await uow.badges.of_person(alex, a)
        alex_anywhere = await uow.badges.of_person(alex)
        one = await uow.badges.get(in_a[0][0].id)
        assert await uow.badges.get(in_a[-1][0].id + 100) is None

    assert [(award.badge, person.display_name) for award, person in in_a] == [
        ("early", "Alex"),
        ("early", "Sam"),
        ("later", "Alex"),
    ], "same moment: in (person, badge) order, as they were inserted"
    assert [award.badge for award in alex_in_a] == ["early", "later"]
    assert sorted(award.badge for award in alex_anywhere) == ["early", "later", "other"]
    assert one is not None
    assert (one.source, one.awarded_at) == ("rule", NOW)


async def test_kudos_given_are_counted_since_a_moment_in_one_cohort(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        await uow.badges.lock_giver(alex)
        for when, cohort, receiver in (
            (NOW - 8 * DAY, a, sam),
            (NOW - DAY, a, sam),
            (NOW, a, kim),
            (NOW, b, sam),
        ):
            kudos = await uow.badges.give_kudos(
                cohort_id=cohort, giver_id=alex, receiver_id=receiver, reason="great", now=when
            )
            assert kudos.id is not None
        await uow.badges.give_kudos(cohort_id=a, giver_id=sam, receiver_id=kim, reason="x", now=NOW)

    async with unit_of_work(sessions) as uow:
        week = NOW - 7 * DAY
        assert await uow.badges.kudos_given_since(cohort_id=a, giver_id=alex, since=week) == 2
        assert await uow.badges.kudos_given_since(cohort_id=a, giver_id=alex, since=NOW) == 1
        assert await uow.badges.kudos_given_since(cohort_id=b, giver_id=kim, since=week) == 0
        assert await uow.badges.kudos_received(sam, a) == 2
        assert await uow.badges.kudos_received(kim, a) == 2
        assert await uow.badges.kudos_received(sam, b) == 1


async def test_counts_by_person_count_distinct_objects_and_each_row_without_one(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        log = uow.activity.append
        for obj in ("review:1", "review:1", "review:2"):
            log(verb="review.submitted", at=NOW, person_id=alex, cohort_id=a, object_ref=obj)
        log(verb="review.submitted", at=NOW, person_id=sam, cohort_id=a)
        log(verb="review.submitted", at=NOW, person_id=sam, cohort_id=a)
        log(verb="review.submitted", at=NOW, cohort_id=a, object_ref="review:3")
        log(verb="review.submitted", at=NOW, person_id=kim, cohort_id=b, object_ref="review:4")
        log(verb="kudos.given", at=NOW, person_id=kim, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        counts = await uow.badges.counts_by_person(cohort_id=a, verb="review.submitted")

    assert counts == {alex: 2, sam: 2}


async def test_facts_are_one_verbs_rows_in_a_cohort_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        (alex,) = await add_people(uow, "Alex")
        log = uow.activity.append
        log(verb="poll.voted", at=NOW + DAY, person_id=alex, cohort_id=a, object_ref="poll:2")
        log(verb="poll.voted", at=NOW, person_id=alex, cohort_id=a, data={"correct": True})
        log(verb="poll.voted", at=NOW, cohort_id=b, object_ref="poll:9")

    async with unit_of_work(sessions) as uow:
        facts = await uow.badges.facts(cohort_id=a, verb="poll.voted")

    assert [(f.person_id, f.object_ref, f.data) for f in facts] == [
        (alex, None, {"correct": True}),
        (alex, "poll:2", {}),
    ]


async def test_a_givers_lock_holds_their_next_kudos_until_the_first_commits(
    pg_sessions: SessionFactory,
) -> None:
    async with unit_of_work(pg_sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")

    async def second_kudos() -> int:
        async with unit_of_work(pg_sessions) as second:
            await second.badges.lock_giver(alex)
            return await second.badges.kudos_given_since(cohort_id=cohort, giver_id=alex, since=NOW)

    async with unit_of_work(pg_sessions) as first:
        await first.badges.lock_giver(alex)
        racing = asyncio.create_task(second_kudos())
        await wait_until_blocked(first)
        await first.badges.give_kudos(
            cohort_id=cohort, giver_id=alex, receiver_id=sam, reason="thanks", now=NOW
        )

    assert await racing == 1, "the second giver counts the first one's kudos"
