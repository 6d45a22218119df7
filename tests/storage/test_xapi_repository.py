"""The xAPI repository: mapped activity queued once, leased to a sender, settled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from storage.db import SessionFactory
from storage.models import Activity, XapiStatement
from storage.statuses import StatementStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people, no_lock_waits

MAPPED = ("checkin.answered", "review.submitted")
MINUTE = timedelta(minutes=1)


async def _log(uow: UnitOfWork, verb: str, *, person_id: int | None, cohort_id: int | None) -> int:
    """Log an entry; returns its id."""
    uow.activity.append(verb=verb, at=NOW, person_id=person_id, cohort_id=cohort_id)
    await uow.session.flush()
    newest = await uow.session.scalar(select(func.max(Activity.id)))
    assert newest is not None
    return int(newest)


def _row(activity_id: int, text: str = "") -> dict[str, Any]:
    statement_id = f"00000000-0000-4000-8000-{activity_id:012d}"
    return {
        "activity_id": activity_id,
        "statement_id": statement_id,
        "statement": {"id": statement_id, "text": text},
    }


async def _queued(sessions: SessionFactory, count: int) -> list[int]:
    """Queue `count` statements (for made-up activity ids); returns their row ids in order."""
    async with unit_of_work(sessions) as uow:
        assert await uow.xapi.enqueue([_row(n) for n in range(1, count + 1)], now=NOW) == count
        ids = await uow.session.scalars(select(XapiStatement.id).order_by(XapiStatement.id))
        return list(ids)


async def test_unqueued_is_mapped_activity_with_a_person_and_cohort_and_no_statement_yet(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        (alex,) = await add_people(uow, "Alex")
        answered = await _log(uow, "checkin.answered", person_id=alex, cohort_id=cohort)
        await _log(uow, "checkin.prompted", person_id=alex, cohort_id=cohort)
        await _log(uow, "checkin.answered", person_id=None, cohort_id=cohort)
        await _log(uow, "checkin.answered", person_id=alex, cohort_id=None)
        reviewed = await _log(uow, "review.submitted", person_id=alex, cohort_id=cohort)
        queued = await _log(uow, "review.submitted", person_id=alex, cohort_id=cohort)
        await uow.xapi.enqueue([_row(queued)], now=NOW)

    async with unit_of_work(sessions) as uow:
        found = await uow.xapi.unqueued(MAPPED, window=1000, limit=10)
        first = await uow.xapi.unqueued(MAPPED, window=1000, limit=1)

    assert [row.id for row in found] == [answered, reviewed]
    assert [row.id for row in first] == [answered]


async def test_unqueued_looks_back_only_a_window_below_the_newest_queued_activity(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        (alex,) = await add_people(uow, "Alex")
        ids = [
            await _log(uow, "checkin.answered", person_id=alex, cohort_id=cohort) for _ in range(6)
        ]
        await uow.xapi.enqueue([_row(ids[4])], now=NOW)

    async with unit_of_work(sessions) as uow:
        narrow = await uow.xapi.unqueued(MAPPED, window=2, limit=10)
        wide = await uow.xapi.unqueued(MAPPED, window=10, limit=10)

    assert [row.id for row in narrow] == [ids[3], ids[5]]
    assert [row.id for row in wide] == [*ids[:4], ids[5]]


async def test_a_statement_queued_twice_is_stored_once_and_left_as_it_was(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        assert await uow.xapi.enqueue([], now=NOW) == 0
        assert await uow.xapi.enqueue([_row(1, "first"), _row(2, "first")], now=NOW) == 2
    async with unit_of_work(sessions) as uow:
        again = await uow.xapi.enqueue([_row(2, "second"), _row(3, "second")], now=NOW + MINUTE)
        claimed = await uow.xapi.claim(NOW + MINUTE, limit=10, lease_until=NOW + 2 * MINUTE)

    assert again == 1
    assert [(row.activity_id, row.statement["text"]) for row in claimed] == [
        (1, "first"),
        (2, "first"),
        (3, "second"),
    ]
    assert all(row.attempts == 0 for row in claimed)
    assert [row.created_at for row in claimed] == [NOW, NOW, NOW + MINUTE]


async def test_a_claim_leases_due_statements_oldest_first_until_the_lease_ends(
    sessions: SessionFactory,
) -> None:
    first, second, third = await _queued(sessions, 3)
    async with unit_of_work(sessions) as uow:
        await uow.xapi.settle(
            [{"id": third, "status": StatementStatus.PENDING, "next_attempt_at": NOW + MINUTE}]
        )

    lease_end = NOW + 5 * MINUTE
    async with unit_of_work(sessions) as uow:
        leased = await uow.xapi.claim(NOW, limit=1, lease_until=lease_end)
    async with unit_of_work(sessions) as uow:
        next_one = await uow.xapi.claim(NOW, limit=10, lease_until=lease_end)
    async with unit_of_work(sessions) as uow:
        while_leased = await uow.xapi.claim(NOW + MINUTE, limit=10, lease_until=lease_end)
    async with unit_of_work(sessions) as uow:
        after_lease = await uow.xapi.claim(lease_end, limit=10, lease_until=lease_end + MINUTE)
        depth = await uow.xapi.depth()

    assert [row.id for row in leased] == [first]
    assert (leased[0].status, leased[0].next_attempt_at) == (StatementStatus.SENDING, lease_end)
    assert [row.id for row in next_one] == [second], "the third waits for its retry"
    assert [row.id for row in while_leased] == [third]
    assert [row.id for row in after_lease] == [first, second, third], "a dead sender's rows return"
    assert depth == {StatementStatus.SENDING: 3}


async def test_settled_statements_leave_the_queue_and_refusals_are_listed_newest_first(
    sessions: SessionFactory,
) -> None:
    sent, refused, retry, older_refusal = await _queued(sessions, 4)
    async with unit_of_work(sessions) as uow:
        await uow.xapi.settle([])
        await uow.xapi.settle(
            [
                {"id": sent, "status": StatementStatus.SENT, "attempts": 1, "sent_at": NOW},
                {"id": refused, "status": StatementStatus.FAILED, "last_error": "bad verb"},
                {"id": older_refusal, "status": StatementStatus.FAILED, "last_error": "bad"},
                {"id": retry, "status": StatementStatus.PENDING, "next_attempt_at": NOW + MINUTE},
            ]
        )

    async with unit_of_work(sessions) as uow:
        assert await uow.xapi.claim(NOW, limit=10, lease_until=NOW + MINUTE) == []
        depth = await uow.xapi.depth()
        failed = await uow.xapi.failed()
        latest_failure = await uow.xapi.failed(limit=1)

    assert depth == {StatementStatus.SENT: 1, StatementStatus.FAILED: 2, StatementStatus.PENDING: 1}
    assert [(row.id, row.last_error) for row in failed] == [
        (older_refusal, "bad"),
        (refused, "bad verb"),
    ]
    assert [row.id for row in latest_failure] == [older_refusal]


async def test_mapped_pages_through_activity_after_an_id_queued_or_not(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        (alex,) = await add_people(uow, "Alex")
        in_a = [await _log(uow, "checkin.answered", person_id=alex, cohort_id=a) for _ in range(3)]
        in_b = await _log(uow, "review.submitted", person_id=alex, cohort_id=b)
        await _log(uow, "checkin.prompted", person_id=alex, cohort_id=a)
        await uow.xapi.enqueue([_row(in_a[0])], now=NOW)

    async with unit_of_work(sessions) as uow:
        everything = await uow.xapi.mapped(MAPPED, after_id=0, limit=10)
        page = await uow.xapi.mapped(MAPPED, after_id=in_a[0], limit=1)
        of_a = await uow.xapi.mapped(MAPPED, after_id=0, limit=10, cohort_id=a)

    assert [row.id for row in everything] == [*in_a, in_b]
    assert [row.id for row in page] == [in_a[1]]
    assert [row.id for row in of_a] == in_a


async def test_two_senders_lease_disjoint_statements(pg_sessions: SessionFactory) -> None:
    first_rows = await _queued(pg_sessions, 3)
    async with unit_of_work(pg_sessions) as first:
        mine = await first.xapi.claim(NOW, limit=2, lease_until=NOW + MINUTE)
        async with unit_of_work(pg_sessions) as second:
            await no_lock_waits(second)
            theirs = await second.xapi.claim(NOW, limit=10, lease_until=NOW + MINUTE)

    assert [row.id for row in mine] == first_rows[:2]
    assert [row.id for row in theirs] == first_rows[2:]
