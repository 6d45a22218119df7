"""The session repository: numbered sessions, attendance once, roles, commitments, its log."""

from __future__ import annotations

from datetime import date, timedelta

from storage.db import SessionFactory
from storage.models import CohortSession, Commitment
from storage.repositories.cohort_sessions import session_ref
from storage.repositories.matching import NewGroup
from storage.statuses import CommitmentStatus, SessionStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people

DAY = timedelta(days=1)


async def _session(
    uow: UnitOfWork, cohort_id: int, *, note_taker: int | None = None, days: int = 0
) -> CohortSession:
    return await uow.cohort_sessions.create(
        cohort_id=cohort_id, facilitator_id=None, note_taker_id=note_taker, now=NOW + days * DAY
    )


async def test_sessions_are_numbered_per_cohort_and_start_running_at_the_first_item(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        fran, nora = await add_people(uow, "Fran", "Nora")
        first = await uow.cohort_sessions.create(
            cohort_id=a, facilitator_id=fran, note_taker_id=nora, now=NOW
        )
    async with unit_of_work(sessions) as uow:
        second = await _session(uow, a, days=7)
        elsewhere = await _session(uow, b)
        assert await uow.cohort_sessions.count(a) == 2
        assert await uow.cohort_sessions.count(b) == 1
        stored = await uow.cohort_sessions.get(first.id, lock=True)
        assert await uow.cohort_sessions.get(second.id + elsewhere.id) is None

    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert stored is not None
    assert (stored.status, stored.item, stored.paused_at) == (SessionStatus.RUNNING, 0, None)
    assert (stored.facilitator_id, stored.note_taker_id) == (fran, nora)
    assert (stored.started_at, stored.item_started_at, stored.ended_at) == (NOW, NOW, None)


async def test_current_is_the_latest_session_that_has_not_ended(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        assert await uow.cohort_sessions.current(cohort) is None
        assert await uow.cohort_sessions.latest(cohort) is None
        first = await _session(uow, cohort)
        paused = await _session(uow, cohort, days=7)
        paused.status, paused.paused_at = SessionStatus.PAUSED, NOW + 7 * DAY

    async with unit_of_work(sessions) as uow:
        current = await uow.cohort_sessions.current(cohort, lock=True)
        assert current is not None
        assert current.id == paused.id, "a paused session is still the current one"
        current.status = SessionStatus.ENDED
    async with unit_of_work(sessions) as uow:
        after_end = await uow.cohort_sessions.current(cohort)
        latest = await uow.cohort_sessions.latest(cohort)

    assert after_end is not None
    assert after_end.id == first.id
    assert latest is not None
    assert latest.id == paused.id, "latest counts ended sessions too"


async def test_a_person_attends_once_and_attendees_are_in_order_of_arrival(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        alex, sam, kim = await add_people(uow, "Alex", "Sam", "Kim")
        first, second = await _session(uow, cohort), await _session(uow, cohort, days=7)
        elsewhere = await _session(uow, other)
        arrived = [
            await uow.cohort_sessions.attend(session_id=first.id, person_id=sam, now=NOW),
            await uow.cohort_sessions.attend(
                session_id=first.id, person_id=alex, now=NOW + DAY / 24
            ),
            await uow.cohort_sessions.attend(
                session_id=second.id, person_id=alex, now=NOW + 7 * DAY
            ),
            await uow.cohort_sessions.attend(session_id=elsewhere.id, person_id=kim, now=NOW),
        ]
    async with unit_of_work(sessions) as uow:
        again = await uow.cohort_sessions.attend(session_id=first.id, person_id=sam, now=NOW + DAY)
        attendees = await uow.cohort_sessions.attendees(first.id)
        ever = await uow.cohort_sessions.attended_ever(cohort)

    assert arrived == [True, True, True, True]
    assert again is False
    assert attendees == [sam, alex]
    assert ever == {sam, alex}


async def test_note_taker_turns_count_the_sessions_each_person_took_notes_in(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        for note_taker in (alex, sam, alex, None):
            await _session(uow, cohort, note_taker=note_taker)
        await _session(uow, other, note_taker=sam)

    async with unit_of_work(sessions) as uow:
        assert await uow.cohort_sessions.note_taker_turns(cohort) == {alex: 2, sam: 1}


async def test_latest_groups_are_the_members_of_the_latest_matching_cycle(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        a, b, c, d = await add_people(uow, "A", "B", "C", "D")
        assert await uow.cohort_sessions.latest_groups(cohort) == []
        for cycle, groups in ((2, [(a, c), (b, d)]), (1, [(a, b), (c, d)])):
            await uow.matching.save_cycle(
                cohort_id=cohort,
                cycle=cycle,
                mode="pairs",
                groups=[NewGroup(members=g, mentor_id=None, reasons=()) for g in groups],
                now=NOW,
            )

    async with unit_of_work(sessions) as uow:
        assert await uow.cohort_sessions.latest_groups(cohort) == [[a, c], [b, d]]


async def test_commitments_are_read_per_session_and_while_open_per_cohort(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        first, second = await _session(uow, cohort), await _session(uow, cohort, days=7)

        def commit(session_id: int | None, person: int, text: str, cohort_id: int = cohort) -> None:
            uow.cohort_sessions.add_commitment(
                Commitment(
                    cohort_id=cohort_id,
                    session_id=session_id,
                    person_id=person,
                    text=text,
                    due_on=date(2026, 12, 1),
                    peer_id=sam if person == alex else None,
                    status=CommitmentStatus.OPEN,
                    created_at=NOW,
                )
            )

        commit(first.id, alex, "write the doc")
        commit(first.id, sam, "review two PRs")
        commit(second.id, alex, "demo it")
        commit(None, sam, "elsewhere", cohort_id=other)
        await uow.session.flush()
        kept = (await uow.cohort_sessions.commitments_of_session(first.id))[1]

    async with unit_of_work(sessions) as uow:
        row = await uow.cohort_sessions.commitment(kept.id, lock=True)
        assert row is not None
        row.status, row.checked_at = CommitmentStatus.KEPT, NOW + 8 * DAY
        assert await uow.cohort_sessions.commitment(kept.id + 100) is None
    async with unit_of_work(sessions) as uow:
        of_first = await uow.cohort_sessions.commitments_of_session(first.id)
        still_open = await uow.cohort_sessions.open_commitments(cohort)

    assert [(c.text, c.peer_id) for c in of_first] == [
        ("write the doc", sam),
        ("review two PRs", None),
    ]
    assert [c.text for c in still_open] == ["write the doc", "demo it"]


async def test_logged_reads_the_activity_about_one_session_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        first, second = await _session(uow, cohort), await _session(uow, cohort)
        log = uow.activity.append
        ref = session_ref(first.id)
        log(verb="session.rated", at=NOW, person_id=alex, cohort_id=cohort, object_ref=ref)
        log(verb="session.rated", at=NOW, person_id=sam, cohort_id=cohort, object_ref=ref)
        log(verb="session.practice", at=NOW, person_id=sam, cohort_id=cohort, object_ref=ref)
        log(
            verb="session.rated",
            at=NOW,
            person_id=alex,
            cohort_id=cohort,
            object_ref=session_ref(second.id),
        )

    async with unit_of_work(sessions) as uow:
        rated = await uow.cohort_sessions.logged(session_id=first.id, verb="session.rated")
        by_sam = await uow.cohort_sessions.logged(
            session_id=first.id, verb="session.rated", person_id=sam
        )

    assert ref == f"session:{first.id}"
    assert [row.person_id for row in rated] == [alex, sam]
    assert [row.person_id for row in by_sam] == [sam]
