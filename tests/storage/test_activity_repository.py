"""The activity repository: an append-only log, counted and read per cohort and person."""

from __future__ import annotations

from datetime import timedelta

from storage.db import SessionFactory
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people

HOUR = timedelta(hours=1)


async def test_count_filters_by_verb_and_optionally_cohort_and_person(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        uow.activity.append(verb="kudos.given", at=NOW, person_id=alex, cohort_id=a)
        uow.activity.append(verb="kudos.given", at=NOW, person_id=sam, cohort_id=a)
        uow.activity.append(verb="kudos.given", at=NOW, person_id=alex, cohort_id=b)
        uow.activity.append(verb="kudos.given", at=NOW)
        uow.activity.append(verb="checkin.answered", at=NOW, person_id=alex, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        assert await uow.activity.count(verb="kudos.given") == 4
        assert await uow.activity.count(verb="kudos.given", cohort_id=a) == 2
        assert await uow.activity.count(verb="kudos.given", person_id=alex) == 2
        assert await uow.activity.count(verb="kudos.given", cohort_id=a, person_id=alex) == 1
        assert await uow.activity.count(verb="poll.voted") == 0


async def test_counts_answer_every_verb_asked_for_even_those_never_logged(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        for verb in ("checkin.answered", "checkin.answered", "poll.voted"):
            uow.activity.append(verb=verb, at=NOW, cohort_id=a)
        uow.activity.append(verb="poll.voted", at=NOW, cohort_id=b)
        uow.activity.append(verb="kudos.given", at=NOW, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        counts = await uow.activity.counts(
            cohort_id=a, verbs=["checkin.answered", "poll.voted", "review.submitted"]
        )

    assert counts == {"checkin.answered": 2, "poll.voted": 1, "review.submitted": 0}


async def test_one_entry_for_each_of_many_people_follows_what_was_appended_before(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        uow.activity.append(verb="checkin.round_opened", at=NOW, cohort_id=cohort)
        await uow.activity.append_for_each(
            verb="checkin.prompted",
            at=NOW + HOUR,
            person_ids=[sam, kim, alex],
            cohort_id=cohort,
            object_ref="checkin_round:1",
        )
        await uow.activity.append_for_each(verb="checkin.prompted", at=NOW, person_ids=[])

    async with unit_of_work(sessions) as uow:
        opened = await uow.activity.of_cohort(cohort_id=cohort, verb="checkin.round_opened")
        prompted = await uow.activity.of_cohort(cohort_id=cohort, verb="checkin.prompted")

    assert [(e.person_id, e.at, e.object, e.data) for e in prompted] == [
        (sam, NOW + HOUR, "checkin_round:1", {}),
        (kim, NOW + HOUR, "checkin_round:1", {}),
        (alex, NOW + HOUR, "checkin_round:1", {}),
    ]
    assert opened[0].id < prompted[0].id, "an entry appended before is stored before them"


async def test_of_cohort_reads_one_verb_oldest_first_with_its_object_and_data(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        log = uow.activity.append
        log(verb="badge.awarded", at=NOW + 2 * HOUR, person_id=alex, cohort_id=a, object_ref="3")
        log(verb="badge.awarded", at=NOW, person_id=sam, cohort_id=a, data={"badge": "first"})
        log(verb="badge.awarded", at=NOW + HOUR, person_id=alex, cohort_id=a, object_ref="1")
        log(verb="badge.awarded", at=NOW, person_id=alex, cohort_id=b)
        log(verb="kudos.given", at=NOW, person_id=alex, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        rows = await uow.activity.of_cohort(cohort_id=a, verb="badge.awarded")
        alexs = await uow.activity.of_cohort(cohort_id=a, verb="badge.awarded", person_id=alex)

    assert [(row.person_id, row.at, row.object) for row in rows] == [
        (sam, NOW, None),
        (alex, NOW + HOUR, "1"),
        (alex, NOW + 2 * HOUR, "3"),
    ]
    assert [row.data for row in rows] == [{"badge": "first"}, {}, {}]
    assert [row.object for row in alexs] == ["1", "3"]


async def test_for_person_is_their_latest_entries_first_up_to_the_limit(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex, sam = await add_people(uow, "Alex", "Sam")
        for hours, verb in ((1, "second"), (0, "first"), (2, "third"), (2, "fourth")):
            uow.activity.append(verb=verb, at=NOW + hours * HOUR, person_id=alex)
        uow.activity.append(verb="someone-else", at=NOW + 3 * HOUR, person_id=sam)

    async with unit_of_work(sessions) as uow:
        everything = await uow.activity.for_person(alex)
        latest = await uow.activity.for_person(alex, limit=2)

    assert [row.verb for row in everything] == ["fourth", "third", "second", "first"]
    assert [row.verb for row in latest] == ["fourth", "third"]
