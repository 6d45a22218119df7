"""The check-in repository: rounds opened once, each person prompted once per round."""

from __future__ import annotations

from datetime import timedelta

from storage.db import SessionFactory
from storage.models import CheckinRound
from storage.repositories.checkins import LIVE_FLOW, PULSE, WEEKLY
from storage.statuses import RunStatus, SessionStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_participants, add_people

DAY = timedelta(days=1)


async def _round(uow: UnitOfWork, cohort_id: int, number: int, kind: str = WEEKLY) -> CheckinRound:
    opened = NOW + (number - 1) * 7 * DAY
    round_ = await uow.checkins.open_round(
        cohort_id=cohort_id,
        kind=kind,
        number=number,
        order=[3, 1, 2],
        opened_at=opened,
        closes_at=opened + 2 * DAY,
    )
    assert round_ is not None
    return round_


async def test_round_numbers_count_on_per_cohort_and_kind(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        assert await uow.checkins.next_number(a, WEEKLY) == 1
        await _round(uow, a, 1)
        await _round(uow, a, 2)
        await _round(uow, a, 1, kind=PULSE)

    async with unit_of_work(sessions) as uow:
        assert await uow.checkins.next_number(a, WEEKLY) == 3
        assert await uow.checkins.next_number(a, PULSE) == 2
        assert await uow.checkins.next_number(b, WEEKLY) == 1


async def test_a_round_opened_twice_exists_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        first = await _round(uow, cohort, 1)
    async with unit_of_work(sessions) as uow:
        again = await uow.checkins.open_round(
            cohort_id=cohort,
            kind=WEEKLY,
            number=1,
            order=[],
            opened_at=NOW + DAY,
            closes_at=NOW + 3 * DAY,
        )
        found = await uow.checkins.by_number(cohort, WEEKLY, 1)
        locked = await uow.checkins.round(first.id, lock=True)
        assert await uow.checkins.by_number(cohort, PULSE, 1) is None
        assert await uow.checkins.round(first.id + 100) is None

    assert again is None
    assert found is not None
    assert found.id == first.id
    assert (found.order, found.opened_at, found.closes_at) == ([3, 1, 2], NOW, NOW + 2 * DAY)
    assert locked is not None
    assert locked.id == first.id


async def test_open_rounds_are_those_without_a_digest_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        posted = await _round(uow, cohort, 1)
        third = await _round(uow, cohort, 3)
        second = await _round(uow, cohort, 2)
        pulse = await _round(uow, cohort, 1, kind=PULSE)
        posted.digest_posted_at = NOW + 2 * DAY

    async with unit_of_work(sessions) as uow:
        weekly = await uow.checkins.open_rounds(cohort)
        pulses = await uow.checkins.open_rounds(cohort, PULSE)

    assert [r.id for r in weekly] == [second.id, third.id]
    assert [r.id for r in pulses] == [pulse.id]


async def test_a_person_is_prompted_once_per_round(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_participants(uow, cohort, "Alex", "Sam")
        first, second = await _round(uow, cohort, 1), await _round(uow, cohort, 2)
        assert await uow.checkins.add_prompt(round_id=first.id, person_id=sam, now=NOW) is True
    async with unit_of_work(sessions) as uow:
        again = await uow.checkins.add_prompt(round_id=first.id, person_id=sam, now=NOW + DAY)
        alex_first = await uow.checkins.add_prompt(round_id=first.id, person_id=alex, now=NOW + DAY)
        next_round = await uow.checkins.add_prompt(round_id=second.id, person_id=sam, now=NOW)
        answer = await uow.checkins.answer(first.id, sam, lock=True)
        assert answer is not None
        answer.success, answer.answered_at = "shipped it", NOW + DAY

    async with unit_of_work(sessions) as uow:
        answers = await uow.checkins.answers(first.id)
        by_id = await uow.checkins.answer_by_id(answer.id, lock=True)
        assert await uow.checkins.answer(second.id, alex) is None
        assert await uow.checkins.answer_by_id(answer.id + 100) is None

    assert (again, alex_first, next_round) == (False, True, True)
    assert [(a.person_id, a.prompted_at) for a in answers] == [(sam, NOW), (alex, NOW + DAY)]
    assert by_id is not None
    assert (by_id.person_id, by_id.success, by_id.answered_at) == (sam, "shipped it", NOW + DAY)


async def test_many_people_are_prompted_at_once_each_once_per_round(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam, kim = await add_participants(uow, cohort, "Alex", "Sam", "Kim")
        round_ = await _round(uow, cohort, 1)
        await uow.checkins.add_prompt(round_id=round_.id, person_id=sam, now=NOW)
    async with unit_of_work(sessions) as uow:
        asked = await uow.checkins.add_prompts(
            round_id=round_.id, person_ids=[kim, sam, alex, kim], now=NOW + DAY
        )
        nobody = await uow.checkins.add_prompts(round_id=round_.id, person_ids=[], now=NOW)
    async with unit_of_work(sessions) as uow:
        answers = await uow.checkins.answers(round_.id)

    assert (asked, nobody) == ({kim, alex}, set())
    assert [(a.person_id, a.prompted_at) for a in answers] == [
        (sam, NOW),
        (kim, NOW + DAY),
        (alex, NOW + DAY),
    ], "new prompts are stored in the order given"


async def test_a_round_is_read_with_its_cohort(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = await add_cohort(uow)
        round_ = await _round(uow, cohort.id, 1)
    async with unit_of_work(sessions) as uow:
        found = await uow.checkins.round_and_cohort(round_.id)
        assert await uow.checkins.round_and_cohort(round_.id + 100) is None

    assert found is not None
    assert (found[0].id, found[1].id, found[1].key) == (round_.id, cohort.id, "pilot-a")


async def test_history_and_last_answers_come_from_closed_rounds_and_answered_prompts(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        alex, sam = await add_participants(uow, cohort, "Alex", "Sam")
        rounds = [await _round(uow, cohort, n) for n in (1, 2, 3)]
        elsewhere = await _round(uow, other, 1)
        for round_ in (*rounds, elsewhere):
            for person in (alex, sam):
                await uow.checkins.add_prompt(round_id=round_.id, person_id=person, now=NOW)
        for round_ in rounds[:2]:
            round_.digest_posted_at = round_.closes_at
        answered = {
            (rounds[0].id, alex): NOW + DAY,
            (rounds[1].id, alex): NOW + 8 * DAY,
            (rounds[0].id, sam): NOW + DAY,
            (elsewhere.id, sam): NOW + 30 * DAY,
        }
        for (round_id, person), at in answered.items():
            answer = await uow.checkins.answer(round_id, person)
            assert answer is not None
            answer.answered_at = at

    async with unit_of_work(sessions) as uow:
        history = await uow.checkins.history(cohort)
        last = await uow.checkins.last_answered(cohort)

    assert [r.number for r, _answer in history] == [2, 2, 1, 1], "newest closed round first"
    assert {(r.number, answer.person_id) for r, answer in history} == {
        (1, alex),
        (1, sam),
        (2, alex),
        (2, sam),
    }
    assert last == {alex: NOW + 8 * DAY, sam: NOW + DAY}


async def test_present_is_who_arrived_at_the_cohorts_session_in_progress(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        assert await uow.checkins.present(cohort) is None
        ended = await uow.cohort_sessions.create(
            cohort_id=cohort, facilitator_id=None, note_taker_id=None, now=NOW
        )
        await uow.cohort_sessions.attend(session_id=ended.id, person_id=kim, now=NOW)
        ended.status = SessionStatus.ENDED
        assert await uow.checkins.present(cohort) is None
        running = await uow.cohort_sessions.create(
            cohort_id=cohort, facilitator_id=None, note_taker_id=None, now=NOW + DAY
        )
        await uow.cohort_sessions.attend(session_id=running.id, person_id=sam, now=NOW + DAY)
        await uow.cohort_sessions.attend(
            session_id=running.id, person_id=alex, now=NOW + DAY + timedelta(minutes=1)
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.checkins.present(cohort) == [sam, alex]


async def test_live_run_is_the_latest_unfinished_live_checkin_of_the_cohort(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        (facilitator,) = await add_people(uow, "Fran")

        async def live(cohort_id: int, flow: str = LIVE_FLOW) -> int:
            run = await uow.flow_runs.create(
                flow=flow,
                person_id=facilitator,
                cohort_id=cohort_id,
                step="turn",
                data={},
                now=NOW,
            )
            return run.id

        assert await uow.checkins.live_run(cohort) is None
        await live(cohort)
        waiting = await live(cohort)
        done = await live(cohort)
        await live(other)
        await live(cohort, flow="checkin.weekly")
        runs = {run_id: await uow.flow_runs.get(run_id) for run_id in (waiting, done)}
        for run_id, status in ((waiting, RunStatus.WAITING), (done, RunStatus.DONE)):
            run = runs[run_id]
            assert run is not None
            run.status = status

    async with unit_of_work(sessions) as uow:
        found = await uow.checkins.live_run(cohort)
        locked = await uow.checkins.live_run(cohort, lock=True)

    assert found is not None
    assert locked is not None
    assert found.id == locked.id == waiting
