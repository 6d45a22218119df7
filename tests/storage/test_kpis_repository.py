"""The KPI repository: a cohort's logged events up to a moment, and its whole log in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.db import SessionFactory
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people

HOUR = timedelta(hours=1)


async def test_events_are_the_cohorts_chosen_verbs_up_to_until_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        log = uow.activity.append
        log(verb="checkin.answered", at=NOW + HOUR, person_id=alex, cohort_id=a, object_ref="r:1")
        log(verb="checkin.prompted", at=NOW, person_id=alex, cohort_id=a)
        log(verb="checkin.prompted", at=NOW, person_id=sam, cohort_id=a)
        log(verb="checkin.answered", at=NOW + 2 * HOUR, person_id=sam, cohort_id=a)
        log(verb="checkin.answered", at=NOW + HOUR, person_id=sam, cohort_id=b)
        log(verb="poll.voted", at=NOW, person_id=sam, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        events = await uow.kpis.events(
            a, verbs=["checkin.prompted", "checkin.answered"], until=NOW + HOUR
        )

    assert [(e.verb, e.person_id, e.at, e.object) for e in events] == [
        ("checkin.prompted", alex, NOW, None),
        ("checkin.prompted", sam, NOW, None),
        ("checkin.answered", alex, NOW + HOUR, "r:1"),
    ], "until is included; later rows, other verbs and other cohorts are not"


async def test_only_verbs_named_in_with_data_bring_their_data(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        uow.activity.append(verb="poll.voted", at=NOW, cohort_id=cohort, data={"choice": 1})
        uow.activity.append(verb="review.rated", at=NOW, cohort_id=cohort, data={"score": 4})

    async with unit_of_work(sessions) as uow:
        verbs = ["poll.voted", "review.rated"]
        chosen = await uow.kpis.events(cohort, verbs=verbs, until=NOW, with_data=["review.rated"])
        everything = await uow.kpis.events(cohort, verbs=verbs, until=NOW)
        none = await uow.kpis.events(cohort, verbs=verbs, until=NOW, with_data=[])

    assert [(e.verb, e.data) for e in chosen] == [
        ("poll.voted", {}),
        ("review.rated", {"score": 4}),
    ]
    assert [e.data for e in everything] == [{"choice": 1}, {"score": 4}]
    assert [e.data for e in none] == [{}, {}]


async def test_cohorts_of_a_program_are_listed_by_key(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        await add_cohort(uow, "pilot-b")
        await add_cohort(uow, "pilot-a")
        await add_cohort(uow, "other-a", program="other")

    async with unit_of_work(sessions) as uow:
        cohorts = await uow.kpis.cohorts_of_program("pilot")
        assert await uow.kpis.cohorts_of_program("none") == []

    assert [cohort.key for cohort in cohorts] == ["pilot-a", "pilot-b"]


@pytest.mark.parametrize("rows", [0, 4, 5])
async def test_the_activity_log_is_read_whole_across_batches_in_id_order(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.setattr("storage.repositories.kpis._EXPORT_BATCH", 2)
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        for n in range(rows):
            uow.activity.append(verb=f"v{n}", at=NOW - n * HOUR, cohort_id=a)
            uow.activity.append(verb="elsewhere", at=NOW, cohort_id=b)

    async with unit_of_work(sessions) as uow:
        read = [row async for row in uow.kpis.activity_log(a)]

    assert [row.verb for row in read] == [f"v{n}" for n in range(rows)]
    assert [row.id for row in read] == sorted(row.id for row in read)
