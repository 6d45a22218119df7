"""Polls, quiz questions and ratings, and the votes cast on them."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Poll, PollVote
from storage.upsert import insert_ignoring_conflict

POLL, QUIZ, RATING = "poll", "quiz", "rating"

# Anonymous votes get random ids rather than the next in sequence, so the order of the
# rows cannot be lined up with the order of anything else that names the voters.
_RANDOM_ID_FLOOR = 2**40
_RANDOM_ID_SPAN = 2**52


class PollRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        cohort_id: int,
        kind: str,
        question: str,
        options: list[str],
        now: datetime,
        closes_at: datetime | None,
        multi: bool = False,
        anonymous: bool = False,
        correct: list[int] | None = None,
        series: str | None = None,
        position: int = 0,
        created_by: int | None = None,
    ) -> Poll:
        poll = Poll(
            cohort_id=cohort_id,
            kind=kind,
            question=question,
            options=list(options),
            multi=multi,
            anonymous=anonymous,
            correct=correct,
            series=series,
            position=position,
            created_by=created_by,
            created_at=now,
            closes_at=closes_at,
        )
        self._session.add(poll)
        await self._session.flush()
        return poll

    async def delete(self, poll: Poll) -> None:
        await self._session.delete(poll)
        await self._session.flush()

    async def get(self, poll_id: int, *, lock: bool = False, share: bool = False) -> Poll | None:
        """A poll; `lock` takes it exclusively (closing), `share` alongside other voters."""
        query = select(Poll).where(Poll.id == poll_id)
        if lock:
            query = query.with_for_update()
        elif share:
            query = query.with_for_update(read=True)
        return await self._session.scalar(query)

    async def number_in_cohort(self, poll: Poll) -> int:
        """The poll's place among its cohort's polls of its kind, counting from 1.

        Ids are shared by every cohort and kind (ratings, quiz questions), so people are
        shown this number instead; polls are never deleted once committed, so it is stable.
        """
        count = await self._session.scalar(
            select(func.count(Poll.id)).where(
                Poll.cohort_id == poll.cohort_id, Poll.kind == poll.kind, Poll.id <= poll.id
            )
        )
        return int(count or 0)

    async def id_by_number(self, cohort_id: int, kind: str, number: int) -> int | None:
        """The id of the cohort's poll of that kind numbered `number` (see number_in_cohort)."""
        if number < 1:
            return None
        return await self._session.scalar(
            select(Poll.id)
            .where(Poll.cohort_id == cohort_id, Poll.kind == kind)
            .order_by(Poll.id)
            .offset(number - 1)
            .limit(1)
        )

    async def latest_open(self, cohort_id: int, kind: str) -> Poll | None:
        return await self._session.scalar(
            select(Poll)
            .where(Poll.cohort_id == cohort_id, Poll.kind == kind, Poll.closed_at.is_(None))
            .order_by(Poll.id.desc())
            .limit(1)
        )

    async def series(
        self, series: str, *, cohort_id: int | None = None, lock: bool = False
    ) -> list[Poll]:
        """The polls of one series (a quiz run's questions) in order, in one cohort if given.

        Quiz series are numbered per cohort, so two cohorts' runs of a quiz share a name.
        """
        query = select(Poll).where(Poll.series == series).order_by(Poll.position, Poll.id)
        if cohort_id is not None:
            query = query.where(Poll.cohort_id == cohort_id)
        if lock:
            query = query.with_for_update()
        return list(await self._session.scalars(query))

    async def series_count(self, cohort_id: int, prefix: str) -> int:
        """How many distinct series starting with `prefix` the cohort has had."""
        found = await self._session.scalar(
            select(func.count(func.distinct(Poll.series))).where(
                Poll.cohort_id == cohort_id, Poll.series.startswith(prefix, autoescape=True)
            )
        )
        return int(found or 0)

    async def vote(self, poll_id: int, voter: str, *, lock: bool = False) -> PollVote | None:
        query = select(PollVote).where(PollVote.poll_id == poll_id, PollVote.voter == voter)
        if lock:
            query = query.with_for_update()
        return await self._session.scalar(query)

    async def add_vote(
        self,
        *,
        poll_id: int,
        voter: str,
        person_id: int | None,
        choices: list[int],
        at: datetime,
        random_id: bool = False,
    ) -> bool:
        """Record a first vote; False when this voter already has one (a concurrent click)."""
        values: dict[str, object] = {
            "poll_id": poll_id,
            "voter": voter,
            "person_id": person_id,
            "choices": choices,
            "at": at,
        }
        if random_id:
            values["id"] = _RANDOM_ID_FLOOR + secrets.randbelow(_RANDOM_ID_SPAN)
        created = await insert_ignoring_conflict(
            self._session, PollVote, values, conflict_columns=("poll_id", "voter")
        )
        return created is not None

    async def remove_vote(self, vote: PollVote) -> None:
        await self._session.delete(vote)
        await self._session.flush()

    async def votes(self, poll_id: int) -> list[PollVote]:
        return list(
            await self._session.scalars(
                select(PollVote).where(PollVote.poll_id == poll_id).order_by(PollVote.voter)
            )
        )

    async def votes_in(self, poll_ids: list[int]) -> list[PollVote]:
        if not poll_ids:
            return []
        return list(
            await self._session.scalars(
                select(PollVote).where(PollVote.poll_id.in_(poll_ids)).order_by(PollVote.poll_id)
            )
        )

    async def tally(self, poll: Poll) -> tuple[list[int], int]:
        """(count per option, number of voters), counted in the database from the votes."""
        rows = await self._session.execute(
            select(PollVote.choices).where(PollVote.poll_id == poll.id)
        )
        counts = [0] * len(poll.options)
        voters = 0
        for (choices,) in rows:
            voters += 1
            for index in choices:
                if 0 <= index < len(counts):
                    counts[index] += 1
        return counts, voters
