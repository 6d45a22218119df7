"""The poll repository: polls and quiz series, one vote per voter, tallies from the votes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import SessionFactory
from storage.models import Poll
from storage.uow import UnitOfWork, unit_of_work
from tests.storage.conftest import (
    NOW,
    add_cohort,
    add_people,
    no_lock_waits,
    wait_until_blocked,
)

HOUR = timedelta(hours=1)


async def _poll(
    uow: UnitOfWork,
    cohort_id: int,
    question: str = "Lunch?",
    *,
    kind: str = "poll",
    series: str | None = None,
    position: int = 0,
    options: tuple[str, ...] = ("Pizza", "Salad", "Soup"),
) -> Poll:
    return await uow.polls.create(
        cohort_id=cohort_id,
        kind=kind,
        question=question,
        options=list(options),
        now=NOW,
        closes_at=NOW + HOUR,
        series=series,
        position=position,
    )


async def test_a_voters_first_vote_is_recorded_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        (alex,) = await add_people(uow, "Alex")
        poll = await _poll(uow, cohort)
        first = await uow.polls.add_vote(
            poll_id=poll.id, voter=str(alex), person_id=alex, choices=[0], at=NOW
        )
    async with unit_of_work(sessions) as uow:
        concurrent_click = await uow.polls.add_vote(
            poll_id=poll.id, voter=str(alex), person_id=alex, choices=[1], at=NOW
        )
        vote = await uow.polls.vote(poll.id, str(alex), lock=True)
        assert vote is not None
        assert vote.choices == [0]
        await uow.polls.remove_vote(vote)
        assert await uow.polls.vote(poll.id, str(alex)) is None
        after_removal = await uow.polls.add_vote(
            poll_id=poll.id, voter=str(alex), person_id=alex, choices=[2], at=NOW + HOUR
        )
        votes = await uow.polls.votes(poll.id)

    assert (first, concurrent_click, after_removal) == (True, False, True)
    assert [(v.voter, v.person_id, v.choices, v.at) for v in votes] == [
        (str(alex), alex, [2], NOW + HOUR)
    ]


async def test_the_tally_counts_each_options_choices_and_the_voters(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        poll = await _poll(uow, cohort)
        other = await _poll(uow, cohort, "Dinner?")
        for voter, choices in (("1", [0, 2]), ("2", [2]), ("3", []), ("4", [2, 7, -1])):
            await uow.polls.add_vote(
                poll_id=poll.id, voter=voter, person_id=None, choices=choices, at=NOW
            )
        await uow.polls.add_vote(poll_id=other.id, voter="1", person_id=None, choices=[1], at=NOW)

    async with unit_of_work(sessions) as uow:
        tally = await uow.polls.tally(poll)
        empty = await uow.polls.tally(await _poll(uow, cohort, "Nobody?"))

    assert tally == ([1, 0, 3], 4), "choices outside the options are not counted"
    assert empty == ([0, 0, 0], 0)


async def test_anonymous_votes_get_random_ids_not_the_next_in_sequence(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        poll = await _poll(uow, cohort)
        for voter in ("hash-b", "hash-a", "hash-c"):
            assert await uow.polls.add_vote(
                poll_id=poll.id, voter=voter, person_id=None, choices=[1], at=NOW, random_id=True
            )
        assert not await uow.polls.add_vote(
            poll_id=poll.id, voter="hash-a", person_id=None, choices=[0], at=NOW, random_id=True
        )

    async with unit_of_work(sessions) as uow:
        votes = await uow.polls.votes(poll.id)

    assert [vote.voter for vote in votes] == ["hash-a", "hash-b", "hash-c"]
    assert all(vote.id >= 2**40 and vote.person_id is None for vote in votes)
    assert all(vote.choices == [1] for vote in votes)


async def test_latest_open_is_the_newest_unclosed_poll_of_its_kind(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        assert await uow.polls.latest_open(cohort, "poll") is None
        older = await _poll(uow, cohort, "older")
        newer = await _poll(uow, cohort, "newer")
        closed = await _poll(uow, cohort, "closed")
        closed.closed_at = NOW
        await _poll(uow, cohort, "a quiz question", kind="quiz")
        await _poll(uow, other, "elsewhere")

    async with unit_of_work(sessions) as uow:
        latest = await uow.polls.latest_open(cohort, "poll")
        newer_row = await uow.polls.get(newer.id, lock=True)
        assert newer_row is not None
        newer_row.closed_at = NOW + HOUR
    async with unit_of_work(sessions) as uow:
        after_closing = await uow.polls.latest_open(cohort, "poll")

    assert latest is not None
    assert latest.id == newer.id
    assert after_closing is not None
    assert after_closing.id == older.id


async def test_a_series_is_read_in_position_order_and_counted_by_prefix(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        assert await uow.polls.series_count(cohort, "quiz:basics:") == 0
        third = await _poll(uow, cohort, "Q3", kind="quiz", series="quiz:basics:1", position=2)
        first = await _poll(uow, cohort, "Q1", kind="quiz", series="quiz:basics:1", position=0)
        second = await _poll(uow, cohort, "Q2", kind="quiz", series="quiz:basics:1", position=1)
        await _poll(uow, cohort, "again", kind="quiz", series="quiz:basics:2")
        await _poll(uow, cohort, "another quiz", kind="quiz", series="quiz:advanced:1")
        await _poll(uow, other, "elsewhere", kind="quiz", series="quiz:basics:3")

    async with unit_of_work(sessions) as uow:
        series = await uow.polls.series("quiz:basics:1")
        locked = await uow.polls.series("quiz:basics:1", lock=True)
        count = await uow.polls.series_count(cohort, "quiz:basics:")
        assert await uow.polls.series("quiz:none") == []
        elsewhere = await uow.polls.series("quiz:basics:3", cohort_id=other)
        not_here = await uow.polls.series("quiz:basics:3", cohort_id=cohort)

    assert [poll.id for poll in series] == [first.id, second.id, third.id]
    assert [poll.question for poll in locked] == ["Q1", "Q2", "Q3"]
    assert count == 2, "this cohort's basics runs; not the advanced one, nor another cohort's"
    assert [poll.question for poll in elsewhere] == ["elsewhere"]
    assert not_here == [], "a cohort's series never includes another cohort's polls"


async def test_deleting_a_poll_deletes_its_votes(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        kept, dropped = await _poll(uow, cohort, "kept"), await _poll(uow, cohort, "dropped")
        for poll in (kept, dropped):
            await uow.polls.add_vote(
                poll_id=poll.id, voter="1", person_id=None, choices=[0], at=NOW
            )
    async with unit_of_work(sessions) as uow:
        row = await uow.polls.get(dropped.id)
        assert row is not None
        await uow.polls.delete(row)

    async with unit_of_work(sessions) as uow:
        assert await uow.polls.get(dropped.id) is None
        votes = await uow.polls.votes_in([kept.id, dropped.id])
        assert await uow.polls.votes_in([]) == []

    assert [vote.poll_id for vote in votes] == [kept.id]


async def test_voters_share_a_poll_while_closing_it_waits_for_them(
    pg_sessions: SessionFactory,
) -> None:
    async with unit_of_work(pg_sessions) as uow:
        cohort = (await add_cohort(uow)).id
        poll_id = (await _poll(uow, cohort)).id

    async def close() -> int:
        async with unit_of_work(pg_sessions) as closer:
            poll = await closer.polls.get(poll_id, lock=True)
            assert poll is not None
            poll.closed_at = NOW + HOUR
            return len(await closer.polls.votes(poll_id))

    async with unit_of_work(pg_sessions) as alex, unit_of_work(pg_sessions) as sam:
        for uow in (alex, sam):
            await no_lock_waits(uow)
            assert await uow.polls.get(poll_id, share=True) is not None
        closing = asyncio.create_task(close())
        await wait_until_blocked(alex)
        for voter, uow in (("alex", alex), ("sam", sam)):
            await uow.polls.add_vote(
                poll_id=poll_id, voter=voter, person_id=None, choices=[0], at=NOW
            )

    assert await closing == 2, "the poll closes with both votes in"
