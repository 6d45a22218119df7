"""Cohorts, their channels per platform, and memberships with roles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cohort, CohortChannel, Identity, Membership, Person, Workspace
from storage.statuses import CohortStatus, MembershipStatus
from storage.upsert import insert_ignoring_conflict


class CohortRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(
        self,
        *,
        key: str,
        name: str,
        program: str,
        time_zone: str,
        now: datetime,
        start_date: date | None = None,
    ) -> Cohort:
        """Create or refresh a cohort; a start date is only ever set, never cleared here."""
        cohort = await self.by_key(key)
        if cohort is None:
            cohort = Cohort(
                key=key,
                name=name,
                program=program,
                time_zone=time_zone,
                status=CohortStatus.ACTIVE,
                start_date=start_date,
                created_at=now,
            )
            self._session.add(cohort)
            await self._session.flush()
            return cohort
        cohort.name, cohort.program, cohort.time_zone = name, program, time_zone
        if start_date is not None:
            cohort.start_date = start_date
        return cohort

    async def set_channel(self, cohort: Cohort, platform: str, channel_id: str) -> None:
        existing = await self._session.scalar(
            select(CohortChannel).where(
                CohortChannel.cohort_id == cohort.id, CohortChannel.platform == platform
            )
        )
        if existing is None:
            self._session.add(
                CohortChannel(cohort_id=cohort.id, platform=platform, channel_id=channel_id)
            )
        else:
            existing.channel_id = channel_id

    async def by_key(self, key: str) -> Cohort | None:
        return await self._session.scalar(select(Cohort).where(Cohort.key == key))

    async def get(self, cohort_id: int) -> Cohort | None:
        return await self._session.get(Cohort, cohort_id)

    async def all(self) -> list[Cohort]:
        return list(await self._session.scalars(select(Cohort).order_by(Cohort.key)))

    async def by_channel(self, platform: str, channel_id: str) -> Cohort | None:
        return await self._session.scalar(
            select(Cohort)
            .join(CohortChannel, CohortChannel.cohort_id == Cohort.id)
            .where(CohortChannel.platform == platform, CohortChannel.channel_id == channel_id)
        )

    async def channels(self, cohort_id: int) -> dict[str, str]:
        rows = await self._session.scalars(
            select(CohortChannel).where(CohortChannel.cohort_id == cohort_id)
        )
        return {row.platform: row.channel_id for row in rows}

    async def add_member(self, *, cohort_id: int, person_id: int, role: str, now: datetime) -> bool:
        """Give a person a role in a cohort; False when they already had it."""
        new_id = await insert_ignoring_conflict(
            self._session,
            Membership,
            {
                "cohort_id": cohort_id,
                "person_id": person_id,
                "role": role,
                "status": MembershipStatus.ACTIVE,
                "joined_at": now,
            },
            conflict_columns=("cohort_id", "person_id", "role"),
        )
        return new_id is not None

    async def roles(self, *, cohort_id: int, person_id: int) -> set[str]:
        rows = await self._session.scalars(
            select(Membership.role).where(
                Membership.cohort_id == cohort_id,
                Membership.person_id == person_id,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        return set(rows)

    async def cohorts_of(self, person_id: int) -> list[tuple[Cohort, set[str]]]:
        rows = await self._session.execute(
            select(Cohort, Membership.role)
            .join(Membership, Membership.cohort_id == Cohort.id)
            .where(Membership.person_id == person_id, Membership.status == MembershipStatus.ACTIVE)
            .order_by(Cohort.key)
        )
        grouped: dict[int, tuple[Cohort, set[str]]] = {}
        for cohort, role in rows:
            grouped.setdefault(cohort.id, (cohort, set()))[1].add(role)
        return list(grouped.values())

    async def members(self, cohort_id: int) -> list[tuple[Person, str]]:
        rows = await self._session.execute(
            select(Person, Membership.role)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.cohort_id == cohort_id, Membership.status == MembershipStatus.ACTIVE)
            .order_by(Membership.role, Person.display_name)
        )
        return [(person, role) for person, role in rows]

    async def roles_by_user(self, platform: str, workspace: str) -> dict[str, set[str]]:
        """Every role held, keyed by platform user id, for one workspace."""
        rows = await self._session.execute(
            select(Identity.platform_user_id, Membership.role)
            .join(Membership, Membership.person_id == Identity.person_id)
            .join(Workspace, Workspace.id == Identity.workspace_id)
            .where(
                Workspace.platform == platform,
                Workspace.tenant_id == workspace,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        roles: dict[str, set[str]] = {}
        for user_id, role in rows:
            roles.setdefault(user_id, set()).add(role)
        return roles
