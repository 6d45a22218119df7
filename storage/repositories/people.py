"""Workspaces, people and their platform identities."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity, Person, Workspace
from storage.statuses import PersonStatus
from storage.upsert import insert_ignoring_conflict

DEFAULT_TIME_ZONE = "UTC"
"""A person's zone until a platform tells theirs or they choose one."""


@dataclass(frozen=True)
class IdentityFacts:
    """What a platform says about a user; stored on first sight and refreshed after."""

    platform: str
    workspace: str
    user_id: str
    display_name: str = ""
    time_zone: str | None = None
    email: str | None = None


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def workspace(self, platform: str, tenant_id: str) -> Workspace:
        found = await self._session.scalar(
            select(Workspace).where(
                Workspace.platform == platform, Workspace.tenant_id == tenant_id
            )
        )
        if found is not None:
            return found
        # Two first events from a new workspace may race: insert-if-absent, then read.
        await insert_ignoring_conflict(
            self._session,
            Workspace,
            {"platform": platform, "tenant_id": tenant_id, "name": ""},
            conflict_columns=("platform", "tenant_id"),
        )
        created = await self._session.scalar(
            select(Workspace).where(
                Workspace.platform == platform, Workspace.tenant_id == tenant_id
            )
        )
        assert created is not None  # inserted above or by the racing transaction
        return created

    async def find_identity(
        self, platform: str, workspace: str, user_id: str
    ) -> tuple[Identity, Person] | None:
        row = (
            await self._session.execute(
                select(Identity, Person)
                .join(Workspace, Identity.workspace_id == Workspace.id)
                .join(Person, Identity.person_id == Person.id)
                .where(
                    Workspace.platform == platform,
                    Workspace.tenant_id == workspace,
                    Identity.platform_user_id == user_id,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def known_users(
        self, users: Collection[tuple[str, str, str]]
    ) -> set[tuple[str, str, str]]:
        """Which of these (platform, workspace, user id) already have an identity."""
        if not users:
            return set()
        rows = await self._session.execute(
            select(Workspace.platform, Workspace.tenant_id, Identity.platform_user_id)
            .join(Workspace, Identity.workspace_id == Workspace.id)
            .where(Identity.platform_user_id.in_({user_id for _p, _w, user_id in users}))
        )
        wanted = set(users)
        return {(p, w, u) for p, w, u in rows if (p, w, u) in wanted}

    async def ensure(self, facts: IdentityFacts, *, now: datetime) -> Person:
        """The person behind a platform user, created on first sight; profile facts refreshed."""
        # One query finds the identity, or one named in app.yaml before its workspace
        # was known (an empty workspace): the common case, someone known, costs no more.
        rows = (
            await self._session.execute(
                select(Identity, Person, Workspace)
                .join(Workspace, Identity.workspace_id == Workspace.id)
                .join(Person, Identity.person_id == Person.id)
                .where(
                    Workspace.platform == facts.platform,
                    Workspace.tenant_id.in_({facts.workspace, ""}),
                    Identity.platform_user_id == facts.user_id,
                )
            )
        ).all()
        exact = [(i, p) for i, p, w in rows if w.tenant_id == facts.workspace]
        if exact:
            self._refresh(*exact[0], facts)
            return exact[0][1]
        workspace = await self.workspace(facts.platform, facts.workspace)
        if rows:
            # Named in app.yaml before the workspace was known: adopt that identity.
            identity, person, _blank = rows[0]
            identity.workspace_id = workspace.id
            self._refresh(identity, person, facts)
            return person
        person = Person(
            display_name=facts.display_name or facts.user_id,
            email=facts.email.lower() if facts.email else None,
            time_zone=facts.time_zone or DEFAULT_TIME_ZONE,
            status=PersonStatus.ACTIVE,
            created_at=now,
        )
        self._session.add(person)
        await self._session.flush()
        self._session.add(
            Identity(
                person_id=person.id,
                workspace_id=workspace.id,
                platform_user_id=facts.user_id,
                display_name=facts.display_name,
                email=facts.email,
                time_zone=facts.time_zone,
                reachable=True,
            )
        )
        await self._session.flush()
        return person

    @staticmethod
    def _refresh(identity: Identity, person: Person, facts: IdentityFacts) -> None:
        if facts.display_name and identity.display_name != facts.display_name:
            identity.display_name = facts.display_name
            person.display_name = facts.display_name
        if facts.email and identity.email != facts.email:
            identity.email = facts.email
            person.email = person.email or facts.email.lower()
        if facts.time_zone and identity.time_zone != facts.time_zone:
            # The first zone a platform tells for someone still on the default becomes
            # theirs (onboarding proposes it); a zone they chose is never overwritten.
            if identity.time_zone is None and person.time_zone == DEFAULT_TIME_ZONE:
                person.time_zone = facts.time_zone
            identity.time_zone = facts.time_zone

    async def get(self, person_id: int) -> Person | None:
        return await self._session.get(Person, person_id)

    async def identities(self, person_id: int) -> list[tuple[Identity, Workspace]]:
        rows = await self._session.execute(
            select(Identity, Workspace)
            .join(Workspace, Identity.workspace_id == Workspace.id)
            .where(Identity.person_id == person_id)
            .order_by(Identity.id)
        )
        return [(identity, workspace) for identity, workspace in rows]

    async def identities_of(
        self, person_ids: Collection[int]
    ) -> dict[int, list[tuple[Identity, Workspace]]]:
        """`identities` for many people in one query; someone without any is left out."""
        found: dict[int, list[tuple[Identity, Workspace]]] = {}
        if not person_ids:
            return found
        rows = await self._session.execute(
            select(Identity, Workspace)
            .join(Workspace, Identity.workspace_id == Workspace.id)
            .where(Identity.person_id.in_(list(person_ids)))
            .order_by(Identity.person_id, Identity.id)
        )
        for identity, workspace in rows:
            found.setdefault(identity.person_id, []).append((identity, workspace))
        return found

    async def remember_conversation(
        self, *, platform: str, workspace: str, user_id: str, reference: dict[str, Any]
    ) -> None:
        """Keep the latest one-to-one conversation reference; it also proves reachability."""
        found = await self.find_identity(platform, workspace, user_id)
        if found is None:
            return
        identity = found[0]
        if identity.conversation_ref != reference:
            identity.conversation_ref = reference
        identity.reachable = True

    async def by_ids(self, person_ids: list[int]) -> dict[int, Person]:
        if not person_ids:
            return {}
        people = await self._session.scalars(select(Person).where(Person.id.in_(person_ids)))
        return {person.id: person for person in people}

    async def mark_unreachable(self, *, platform: str, workspace: str, user_id: str) -> None:
        """The person blocked the bot or left: stop trying that identity."""
        workspace_id = select(Workspace.id).where(
            Workspace.platform == platform, Workspace.tenant_id == workspace
        )
        await self._session.execute(
            update(Identity)
            .where(
                Identity.platform_user_id == user_id,
                Identity.workspace_id.in_(workspace_id.scalar_subquery()),
            )
            .values(reachable=False)
        )

    async def by_email(self, email: str) -> Person | None:
        return await self._session.scalar(
            select(Person).where(Person.email == email.lower()).order_by(Person.id).limit(1)
        )

    async def by_handle(self, platform: str, user_id: str) -> Person | None:
        """The person a platform knows by this user id (in any of its workspaces)."""
        return await self._session.scalar(
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .join(Workspace, Workspace.id == Identity.workspace_id)
            .where(Workspace.platform == platform, Identity.platform_user_id == user_id)
            .order_by(Identity.id)
            .limit(1)
        )
