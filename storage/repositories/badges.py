"""Badges awarded, kudos given, and the activity-log facts the badge rules count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, distinct, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, BadgeAward, Kudos, Person

RULE = "rule"
AWARDS_PER_STATEMENT = 1000
MANUAL = "manual"


@dataclass(frozen=True)
class NewAwardRow:
    person_id: int
    badge: str
    source: str = RULE
    awarded_by: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LoggedFact:
    """One activity row as the rules see it: who, which object, and its data."""

    person_id: int | None
    object_ref: str | None
    data: dict[str, Any]


class BadgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- awards -------------------------------------------------------------------------------

    async def award(
        self, *, cohort_id: int, awards: Sequence[NewAwardRow], now: datetime
    ) -> set[tuple[int, str]]:
        """Record the awards not held yet, in one statement; returns (person, badge) recorded.

        Insert-if-absent on (cohort, person, badge): of two concurrent runs only one records
        each award, so only one announces it. Rows go in (person, badge) order, so two
        concurrent PostgreSQL passes never wait on each other in a cycle.
        """
        ordered = sorted(awards, key=lambda row: (row.person_id, row.badge))
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        recorded: set[tuple[int, str]] = set()
        # Chunks keep a statement under the drivers' bound-parameter limits (32,767).
        for start in range(0, len(ordered), AWARDS_PER_STATEMENT):
            statement = (
                insert(BadgeAward)
                .values(
                    [
                        {
                            "cohort_id": cohort_id,
                            "person_id": row.person_id,
                            "badge": row.badge,
                            "source": row.source,
                            "awarded_by": row.awarded_by,
                            "reason": row.reason,
                            "awarded_at": now,
                        }
                        for row in ordered[start : start + AWARDS_PER_STATEMENT]
                    ]
                )
                .on_conflict_do_nothing(index_elements=["cohort_id", "person_id", "badge"])
                .returning(BadgeAward.person_id, BadgeAward.badge)
            )
            result = await self._session.execute(statement)
            recorded |= {(int(person_id), str(badge)) for person_id, badge in result}
        return recorded

    async def get(self, award_id: int) -> BadgeAward | None:
        return await self._session.get(BadgeAward, award_id)

    async def held(self, cohort_id: int) -> set[tuple[int, str]]:
        """(person id, badge id) of every award in the cohort."""
        rows = await self._session.execute(
            select(BadgeAward.person_id, BadgeAward.badge).where(BadgeAward.cohort_id == cohort_id)
        )
        return {(person_id, badge) for person_id, badge in rows}

    async def of_cohort(self, cohort_id: int) -> list[tuple[BadgeAward, Person]]:
        """Every award in the cohort with its recipient, oldest first."""
        rows = await self._session.execute(
            select(BadgeAward, Person)
            .join(Person, Person.id == BadgeAward.person_id)
            .where(BadgeAward.cohort_id == cohort_id)
            .order_by(BadgeAward.awarded_at, BadgeAward.id)
        )
        return [(award, person) for award, person in rows]

    async def of_person(self, person_id: int, cohort_id: int | None = None) -> list[BadgeAward]:
        """The person's awards, oldest first; in one cohort or in all."""
        query = select(BadgeAward).where(BadgeAward.person_id == person_id)
        if cohort_id is not None:
            query = query.where(BadgeAward.cohort_id == cohort_id)
        rows = await self._session.scalars(query.order_by(BadgeAward.awarded_at, BadgeAward.id))
        return list(rows)

    # --- kudos --------------------------------------------------------------------------------

    async def lock_giver(self, person_id: int) -> None:
        """Serialise one giver's kudos across processes, so the weekly limit holds."""
        await self._session.scalar(
            select(Person.id).where(Person.id == person_id).with_for_update()
        )

    async def kudos_given_since(self, *, cohort_id: int, giver_id: int, since: datetime) -> int:
        found = await self._session.scalar(
            select(func.count(Kudos.id)).where(
                Kudos.giver_id == giver_id, Kudos.at >= since, Kudos.cohort_id == cohort_id
            )
        )
        return int(found or 0)

    async def give_kudos(
        self, *, cohort_id: int, giver_id: int, receiver_id: int, reason: str, now: datetime
    ) -> Kudos:
        kudos = Kudos(
            cohort_id=cohort_id, giver_id=giver_id, receiver_id=receiver_id, reason=reason, at=now
        )
        self._session.add(kudos)
        await self._session.flush()
        return kudos

    async def kudos_received(self, person_id: int, cohort_id: int) -> int:
        found = await self._session.scalar(
            select(func.count(Kudos.id)).where(
                Kudos.receiver_id == person_id, Kudos.cohort_id == cohort_id
            )
        )
        return int(found or 0)

    # --- what the rules count (reads of the activity log) -------------------------------------

    async def counts_by_person(self, *, cohort_id: int, verb: str) -> dict[int, int]:
        """Distinct objects (or rows, when a row names none) per person for one verb."""
        object_or_row = func.coalesce(Activity.object, cast(Activity.id, String))
        distinct_objects = func.count(distinct(object_or_row))
        query = select(Activity.person_id, distinct_objects).where(
            Activity.cohort_id == cohort_id,
            Activity.verb == verb,
            Activity.person_id.is_not(None),
        )
        rows = await self._session.execute(query.group_by(Activity.person_id))
        return {int(person_id): int(count) for person_id, count in rows if person_id is not None}

    async def facts(self, *, cohort_id: int, verb: str) -> list[LoggedFact]:
        """The rows of one verb in a cohort, oldest first."""
        query = select(Activity.person_id, Activity.object, Activity.data).where(
            Activity.cohort_id == cohort_id, Activity.verb == verb
        )
        rows = await self._session.execute(query.order_by(Activity.at, Activity.id))
        return [
            LoggedFact(person_id=person_id, object_ref=object_ref, data=dict(data or {}))
            for person_id, object_ref, data in rows
        ]
