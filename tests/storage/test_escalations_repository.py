"""The escalation repository: raised once per dedup key, audited, and the sweep's candidates."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.model.roles import Role
from storage.db import SessionFactory
from storage.models import Escalation, Membership
from storage.repositories.escalations import NewEscalation
from storage.repositories.outbox import OutboxRow
from storage.statuses import AssignmentStatus, EscalationStatus, OutboxStatus, ReviewStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_participants, add_people

HOUR = timedelta(hours=1)
SLA = NOW + 4 * HOUR


async def _raise(
    uow: UnitOfWork, key: str, cohort_id: int | None = None, *, now: datetime = NOW
) -> int:
    new = NewEscalation(kind="flag", dedup_key=key, summary=f"about {key}", cohort_id=cohort_id)
    escalation = await uow.escalations.create(new, now=now, ack_due_at=SLA)
    assert escalation is not None
    return escalation.id


async def test_an_escalation_raised_twice_is_stored_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        alex, sam = await add_people(uow, "Alex", "Sam")
        new = NewEscalation(
            kind="flag",
            dedup_key="flag:message:1",
            summary="A message was flagged",
            cohort_id=cohort,
            tag="harassment",
            reporter_id=alex,
            subject_id=sam,
            context={"message": "1"},
        )
        first = await uow.escalations.create(new, now=NOW, ack_due_at=SLA)
    async with unit_of_work(sessions) as uow:
        again = await uow.escalations.create(new, now=NOW + HOUR, ack_due_at=SLA + HOUR)
        found = await uow.escalations.by_dedup_key("flag:message:1")
        raised = await uow.escalations.existing_keys({"flag:message:1", "flag:message:2"})
        assert await uow.escalations.existing_keys(set()) == set()
        assert await uow.escalations.by_dedup_key("flag:message:2") is None

    assert first is not None
    assert again is None
    assert found is not None
    assert found.id == first.id
    assert (found.status, found.tier, found.kind, found.tag) == (
        EscalationStatus.OPEN,
        1,
        "flag",
        "harassment",
    )
    assert (found.reporter_id, found.subject_id, found.context) == (alex, sam, {"message": "1"})
    assert (found.created_at, found.ack_due_at) == (NOW, SLA)
    assert raised == {"flag:message:1"}


async def test_a_dedup_key_longer_than_its_column_still_raises_once(
    sessions: SessionFactory,
) -> None:
    long_key = "help:" + "x" * 300
    async with unit_of_work(sessions) as uow:
        first = await uow.escalations.create(
            NewEscalation(kind="help", dedup_key=long_key, summary="help"),
            now=NOW,
            ack_due_at=SLA,
        )
    async with unit_of_work(sessions) as uow:
        again = await uow.escalations.create(
            NewEscalation(kind="help", dedup_key=long_key, summary="help"),
            now=NOW,
            ack_due_at=SLA,
        )
        found = await uow.escalations.by_dedup_key(long_key)

    assert first is not None
    assert again is None
    assert found is not None
    assert found.id == first.id
    assert found.dedup_key == long_key[:200]


async def test_unresolved_lists_open_and_acknowledged_escalations_oldest_first(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        newer = await _raise(uow, "1", a, now=NOW + HOUR)
        acknowledged = await _raise(uow, "2", a, now=NOW + 2 * HOUR)
        resolved = await _raise(uow, "3", a, now=NOW - HOUR)
        older = await _raise(uow, "4", a, now=NOW)
        await _raise(uow, "5", b)
        for escalation_id, status in (
            (acknowledged, EscalationStatus.ACKNOWLEDGED),
            (resolved, EscalationStatus.RESOLVED),
        ):
            row = await uow.escalations.get(escalation_id, lock=True)
            assert row is not None
            row.status = status

    async with unit_of_work(sessions) as uow:
        unresolved = await uow.escalations.unresolved(a)

    assert [row.id for row in unresolved] == [older, newer, acknowledged]


async def test_get_rereads_an_escalation_changed_behind_the_sessions_back(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        escalation_id = await _raise(uow, "flag:1")
        (moderator,) = await add_people(uow, "Mo")
    async with unit_of_work(sessions) as uow:
        seen = await uow.escalations.get(escalation_id)
        assert seen is not None
        assert seen.status == EscalationStatus.OPEN
        await uow.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(status=EscalationStatus.ACKNOWLEDGED, acknowledged_by=moderator),
            execution_options={"synchronize_session": False},
        )
        again = await uow.escalations.get(escalation_id, lock=True)
        assert await uow.escalations.get(escalation_id + 100) is None

    assert again is seen
    assert (again.status, again.acknowledged_by) == (EscalationStatus.ACKNOWLEDGED, moderator)


async def test_the_audit_trail_is_read_in_the_order_it_happened(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        (moderator,) = await add_people(uow, "Mo")
        first = await _raise(uow, "flag:1")
        other = await _raise(uow, "flag:2")
        uow.escalations.record(first, at=NOW, action="raised", actor_id=None)
        uow.escalations.record(first, at=NOW + 2 * HOUR, action="resolved", actor_id=moderator)
        uow.escalations.record(
            first, at=NOW + HOUR, action="acknowledged", actor_id=moderator, note="on it"
        )
        uow.escalations.record(other, at=NOW, action="raised", actor_id=None)
        trail = await uow.escalations.events(first)

    assert [(e.action, e.actor_id, e.note) for e in trail] == [
        ("raised", None, None),
        ("acknowledged", moderator, "on it"),
        ("resolved", moderator, None),
    ]


async def test_overdue_reviews_are_open_assignments_due_before_the_cutoff(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        author, a, b, c = await add_people(uow, "Author", "A", "B", "C")

        async def request(cohort_id: int) -> int:
            row = await uow.reviews.create_request(
                cohort_id=cohort_id,
                author_id=author,
                artifact="doc",
                reviewers_wanted=3,
                due_at=NOW,
                now=NOW,
            )
            return row.id

        open_request, cancelled, elsewhere = (
            await request(cohort),
            await request(cohort),
            await request(other),
        )

        async def assign(request_id: int, reviewer: int, due_in: timedelta) -> int:
            row = await uow.reviews.assign(
                request_id=request_id, reviewer_id=reviewer, due_at=NOW + due_in, now=NOW
            )
            return row.id

        late = await assign(open_request, a, -HOUR)
        at_cutoff = await assign(open_request, b, timedelta(0))
        await assign(open_request, c, HOUR)
        submitted = await assign(cancelled, a, -HOUR)
        await assign(elsewhere, a, -HOUR)
        request_row = await uow.reviews.request(cancelled)
        assert request_row is not None
        request_row.status = ReviewStatus.CANCELLED
        done = await uow.reviews.assignment(submitted)
        assert done is not None
        done.status = AssignmentStatus.SUBMITTED

    async with unit_of_work(sessions) as uow:
        overdue = await uow.escalations.overdue_reviews(cohort, due_before=NOW)

    assert [(assignment.id, request.id) for assignment, request in overdue] == [
        (late, open_request),
        (at_cutoff, open_request),
    ]


async def test_inactive_since_lists_participants_inactive_since_before_the_cutoff(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        long_gone, recent, _active = await add_participants(uow, cohort, "Long", "Recent", "Active")
        (mentor,) = await add_people(uow, "Mentor")
        await uow.cohorts.add_member(cohort_id=cohort, person_id=mentor, role=Role.MENTOR, now=NOW)
        since = {long_gone: NOW - 10 * 24 * HOUR, recent: NOW - HOUR, mentor: NOW - 30 * 24 * HOUR}
        for membership in await uow.session.scalars(select(Membership)):
            membership.inactive_since = since.get(membership.person_id)

    async with unit_of_work(sessions) as uow:
        found = await uow.escalations.inactive_since(cohort, before=NOW - 7 * 24 * HOUR)
        everyone = await uow.escalations.inactive_since(cohort, before=NOW)

    assert [m.person_id for m in found] == [long_gone]
    assert [m.person_id for m in everyone] == [long_gone, recent], "participants only"


async def test_unraised_dead_letters_skip_raised_ones_and_undeliverable_moderator_pings(
    sessions: SessionFactory,
) -> None:
    async def queue(
        uow: UnitOfWork, key: str, ref_key: str | None = None, update_of_key: str | None = None
    ) -> int:
        outbox_id = await uow.outbox.enqueue(
            OutboxRow(
                idempotency_key=key,
                platform="slack",
                workspace="T1",
                lane="dm:x",
                target={},
                message={},
                now=NOW,
                ref_key=ref_key,
                update_of_key=update_of_key,
            )
        )
        assert outbox_id is not None
        return outbox_id

    async with unit_of_work(sessions) as uow:
        raised = await queue(uow, "1")
        unraised = await queue(uow, "2", ref_key="digest:1")
        ping = await queue(uow, "3", ref_key="escalation:7")
        ping_update = await queue(uow, "4", update_of_key="escalation:7")
        pending = await queue(uow, "5")
        update_elsewhere = await queue(uow, "6", update_of_key="digest:1")
        also_unraised = await queue(uow, "7")
        dead = [raised, unraised, ping, ping_update, update_elsewhere, also_unraised]
        await uow.outbox.settle([{"id": i, "status": OutboxStatus.DEAD} for i in dead])
        await _raise(uow, f"dead_letter:{raised}")
        await _raise(uow, f"dead_letter:{pending}")

    async with unit_of_work(sessions) as uow:
        found = await uow.escalations.unraised_dead_letters(
            key_prefix="dead_letter:", skip_ref_prefix="escalation:"
        )
        first = await uow.escalations.unraised_dead_letters(
            key_prefix="dead_letter:", skip_ref_prefix="escalation:", limit=1
        )

    assert [row.id for row in found] == [unraised, update_elsewhere, also_unraised]
    assert [row.id for row in first] == [unraised]
