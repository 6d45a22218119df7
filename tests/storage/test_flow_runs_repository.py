"""The flow-run repository: where each conversation stands, saved optimistically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from storage.db import SessionFactory
from storage.models import FlowRun
from storage.statuses import RunStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people

MINUTE = timedelta(minutes=1)


async def _run(
    uow: UnitOfWork,
    person_id: int,
    *,
    flow: str = "onboarding",
    cohort_id: int | None = None,
    status: RunStatus = RunStatus.ACTIVE,
    updated_in: timedelta = timedelta(0),
) -> int:
    run = await uow.flow_runs.create(
        flow=flow, person_id=person_id, cohort_id=cohort_id, step="start", data={}, now=NOW
    )
    run.status, run.updated_at = status, NOW + updated_in
    await uow.flow_runs.flush()
    return run.id


async def test_a_new_run_is_active_at_its_first_step(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        (alex,) = await add_people(uow, "Alex")
        created = await uow.flow_runs.create(
            flow="checkin.weekly",
            person_id=alex,
            cohort_id=cohort,
            step="success",
            data={"round_id": 7},
            now=NOW,
        )
    async with unit_of_work(sessions) as uow:
        stored = await uow.flow_runs.get(created.id, lock=True)
        assert await uow.flow_runs.get(created.id + 100) is None

    assert stored is not None
    assert (stored.flow, stored.person_id, stored.cohort_id) == ("checkin.weekly", alex, cohort)
    assert (stored.step, stored.data, stored.status) == (
        "success",
        {"round_id": 7},
        RunStatus.ACTIVE,
    )
    assert (stored.version, stored.created_at, stored.updated_at) == (1, NOW, NOW)


async def test_waiting_for_text_is_the_persons_most_recently_updated_waiting_run(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex, sam = await add_people(uow, "Alex", "Sam")
        assert await uow.flow_runs.waiting_for_text(alex) is None
        await _run(uow, alex, status=RunStatus.WAITING, updated_in=MINUTE)
        latest = await _run(uow, alex, status=RunStatus.WAITING, updated_in=2 * MINUTE)
        await _run(uow, alex, status=RunStatus.WAITING)
        await _run(uow, alex, status=RunStatus.ACTIVE, updated_in=3 * MINUTE)
        await _run(uow, alex, status=RunStatus.DONE, updated_in=4 * MINUTE)
        await _run(uow, sam, status=RunStatus.WAITING, updated_in=5 * MINUTE)

    async with unit_of_work(sessions) as uow:
        found = await uow.flow_runs.waiting_for_text(alex)
        locked = await uow.flow_runs.waiting_for_text(alex, lock=True)

    assert found is not None
    assert locked is not None
    assert found.id == locked.id == latest


async def test_waiting_lists_the_persons_waiting_runs_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex, sam = await add_people(uow, "Alex", "Sam")
        first = await _run(uow, alex, status=RunStatus.WAITING, updated_in=2 * MINUTE)
        second = await _run(uow, alex, status=RunStatus.WAITING)
        await _run(uow, alex, status=RunStatus.CANCELLED)
        await _run(uow, sam, status=RunStatus.WAITING)

    async with unit_of_work(sessions) as uow:
        assert [run.id for run in await uow.flow_runs.waiting(alex)] == [first, second]


async def test_active_finds_unfinished_runs_of_one_flow_person_and_cohort(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        running = await _run(uow, alex, cohort_id=a)
        waiting = await _run(uow, alex, cohort_id=a, status=RunStatus.WAITING)
        await _run(uow, alex, cohort_id=a, status=RunStatus.DONE)
        await _run(uow, alex, cohort_id=a, status=RunStatus.CANCELLED)
        await _run(uow, alex, cohort_id=b)
        await _run(uow, alex, cohort_id=a, flow="checkin.weekly")
        await _run(uow, sam, cohort_id=a)
        no_cohort = await _run(uow, alex)

    async with unit_of_work(sessions) as uow:
        in_a = await uow.flow_runs.active(flow="onboarding", person_id=alex, cohort_id=a)
        outside = await uow.flow_runs.active(flow="onboarding", person_id=alex, cohort_id=None)

    assert sorted(run.id for run in in_a) == [running, waiting]
    assert [run.id for run in outside] == [no_cohort], "no cohort matches runs without one"


async def test_active_of_finds_the_unfinished_runs_of_many_people_at_once(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        alex_running = await _run(uow, alex, cohort_id=a)
        sam_waiting = await _run(uow, sam, cohort_id=a, status=RunStatus.WAITING)
        await _run(uow, sam, cohort_id=a, status=RunStatus.DONE)
        await _run(uow, sam, cohort_id=b)
        await _run(uow, sam, cohort_id=a, flow="checkin.weekly")
        await _run(uow, kim, cohort_id=a)

    async with unit_of_work(sessions) as uow:
        found = await uow.flow_runs.active_of(
            flow="onboarding", person_ids=[sam, alex], cohort_id=a
        )
        assert await uow.flow_runs.active_of(flow="onboarding", person_ids=[], cohort_id=a) == []

    assert [run.id for run in found] == [alex_running, sam_waiting], "oldest first"


async def test_many_runs_are_created_at_once_each_with_its_own_data(
    sessions: SessionFactory,
) -> None:
    data = {"round_id": 7}
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        runs = await uow.flow_runs.create_many(
            flow="checkin.weekly",
            person_ids=[sam, alex],
            cohort_id=cohort,
            step="success",
            data=data,
            now=NOW,
        )
        runs[0].data = {**runs[0].data, "success": "shipped"}

    async with unit_of_work(sessions) as uow:
        stored = [await uow.flow_runs.get(run.id) for run in runs]

    assert runs[0].id < runs[1].id, "inserted in the order given"
    assert [(run.person_id, run.cohort_id, run.step) for run in stored if run] == [
        (sam, cohort, "success"),
        (alex, cohort, "success"),
    ]
    assert [run.data for run in stored if run] == [{"round_id": 7, "success": "shipped"}, data]
    assert data == {"round_id": 7}, "the runs copy the data they start with"
    assert [(run.status, run.version) for run in stored if run] == [
        (RunStatus.ACTIVE, 2),
        (RunStatus.ACTIVE, 1),
    ], "each run is a row of its own, saved as any run is"


async def test_new_runs_that_moved_on_are_saved_together_as_a_flush_would_save_them(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        waiting, moved, untouched = await uow.flow_runs.create_many(
            flow="onboarding",
            person_ids=[alex, sam, kim],
            cohort_id=None,
            step="a",
            data={},
            now=NOW,
        )
        waiting.status, waiting.updated_at = RunStatus.WAITING, NOW + MINUTE
        moved.step, moved.data = "b", {"name": "Sam"}
        untouched.status = RunStatus.ACTIVE  # the same value: no change to save
        await uow.flow_runs.save_new([waiting, moved, untouched])
        assert not any(uow.session.is_modified(run) for run in (waiting, moved, untouched)), (
            "nothing left for the next flush to write"
        )
        moved.step = "c"  # a later change is saved the usual way, checked against the version
    async with unit_of_work(sessions) as uow:
        stored = [await uow.flow_runs.get(run.id) for run in (waiting, moved, untouched)]

    assert [(run.step, run.status, run.version) for run in stored if run] == [
        ("a", RunStatus.WAITING, 2),
        ("c", RunStatus.ACTIVE, 3),
        ("a", RunStatus.ACTIVE, 1),
    ]
    assert [(run.data, run.updated_at) for run in stored if run] == [
        ({}, NOW + MINUTE),
        ({"name": "Sam"}, NOW),
        ({}, NOW),
    ]


async def test_a_run_changed_since_it_was_read_is_not_overwritten(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        (alex,) = await add_people(uow, "Alex")
        run_id = await _run(uow, alex)

    async with unit_of_work(sessions) as uow:
        run = await uow.flow_runs.get(run_id)
        assert run is not None
        # Another transaction moves the run on after this one read it.
        await uow.session.execute(
            update(FlowRun)
            .where(FlowRun.id == run_id)
            .values(step="elsewhere", version=FlowRun.version + 1),
            execution_options={"synchronize_session": False},
        )
        run.step = "stale"
        with pytest.raises(StaleDataError):
            await uow.flow_runs.flush()
        await uow.session.rollback()

    async with unit_of_work(sessions) as uow:
        stored = await uow.flow_runs.get(run_id)
        assert stored is not None
        assert (stored.step, stored.version) == ("start", 1), "the refused save left nothing"
        stored.step = "next"
    async with unit_of_work(sessions) as uow:
        saved = await uow.flow_runs.get(run_id)

    assert saved is not None
    assert (saved.step, saved.version) == ("next", 2), "a fresh read saves and bumps the version"
