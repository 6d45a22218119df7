"""Who can be prompted now: time off per person, inactivity per membership."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Membership, Person
from storage.statuses import MembershipStatus

PARTICIPANT = "participant"


class ParticipationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def participants(self, cohort_id: int) -> list[tuple[Person, Membership]]:
        """Every active participant with their membership, by name."""
        rows = await self._session.execute(
            select(Person, Membership)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.cohort_id == cohort_id,
                Membership.role == PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
            .order_by(Person.display_name, Person.id)
        )
        return [(person, membership) for person, membership in rows]

    async def promptable(self, cohort_id: int, day: date) -> list[Person]:
        """Participants who are neither away on `day` nor inactive."""
        return [
            person
            for person, membership in await self.participants(cohort_id)
            if membership.inactive_since is None and not is_away(person, day)
        ]

    async def membership(self, cohort_id: int, person_id: int) -> Membership | None:
        return await self._session.scalar(
            select(Membership).where(
                Membership.cohort_id == cohort_id,
                Membership.person_id == person_id,
                Membership.role == PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )

    async def participants_among(
        self, cohort_id: int, person_ids: Collection[int]
    ) -> dict[int, tuple[Person, Membership]]:
        """Those of these people who are active participants, with their memberships."""
        if not person_ids:
            return {}
        rows = await self._session.execute(
            select(Person, Membership)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.cohort_id == cohort_id,
                Membership.person_id.in_(list(person_ids)),
                Membership.role == PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        return {person.id: (person, membership) for person, membership in rows}

    async def mark_answered(self, cohort_id: int, person_id: int) -> bool:
        """Reset the unanswered count; True when this ends the member's inactivity."""
        membership = await self.membership(cohort_id, person_id)
        if membership is None:
            return False
        membership.missed_in_a_row = 0
        if membership.inactive_since is None:
            return False
        membership.inactive_since = None
        return True

    async def inactive(self, cohort_id: int) -> list[tuple[Person, datetime]]:
        return [
            (person, membership.inactive_since)
            for person, membership in await self.participants(cohort_id)
            if membership.inactive_since is not None
        ]


def is_away(person: Person, day: date) -> bool:
    return person.away_until is not None and day <= person.away_until
