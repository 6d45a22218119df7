"""Importing a roster into a cohort: find each person on the platform, enrol them.

Each row is looked up by email on one platform (outside any transaction: it is network
I/O), then stored in its own transaction: the person and their platform identity,
department and manager in their profile, the role in the cohort, and for participants
the start of onboarding, whose welcome DM goes to the outbox. Running the same roster
again finds everyone already there and changes nothing but refreshed profile facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.model.ports import DirectoryUnavailable, PlatformUser, UserDirectory, UserNotFound
from bot.model.roles import Role
from bot.runtime.effects import Effects, Origin
from bot.runtime.engine import FlowEngine
from flows.onboarding.commands import enrol
from flows.onboarding.roster_csv import RosterRow, RowProblem
from storage.db import SessionFactory
from storage.models import Cohort, Identity, Person
from storage.repositories.people import IdentityFacts
from storage.uow import UnitOfWork, unit_of_work


class Outcome(StrEnum):
    IMPORTED = "imported"
    ALREADY = "already enrolled"
    NOT_MATCHED = "not matched"
    INVALID = "invalid"


@dataclass(frozen=True)
class RowResult:
    line: int
    email: str
    outcome: Outcome
    reason: str = ""
    person_id: int | None = None


@dataclass
class ImportReport:
    cohort_key: str
    cohort_name: str
    platform: str
    results: list[RowResult] = field(default_factory=list)
    queued: int = 0
    """Messages (welcome DMs) this import put in the outbox."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def problems(self) -> list[RowResult]:
        """Rows that were not imported, in file order."""
        failed = (Outcome.NOT_MATCHED, Outcome.INVALID)
        return sorted((r for r in self.results if r.outcome in failed), key=lambda r: r.line)

    @property
    def complete(self) -> bool:
        """Every row was imported or was already there."""
        return not self.problems


class UnknownCohort(Exception):
    def __init__(self, key: str, known: list[str]) -> None:
        listed = ", ".join(known) or "none yet"
        super().__init__(f"there is no cohort {key!r} (cohorts: {listed})")


@dataclass(frozen=True)
class RosterImport:
    """Where a roster goes: a cohort, through one platform's directory."""

    sessions: SessionFactory
    flows: FlowEngine
    directory: UserDirectory
    platform: str
    platforms: frozenset[str]
    """Every enabled platform: where DMs may be queued."""
    clock: Callable[[], datetime]

    async def run(
        self,
        *,
        cohort_key: str,
        rows: Sequence[RosterRow],
        problems: Sequence[RowProblem] = (),
        progress: Callable[[RowResult], None] | None = None,
    ) -> ImportReport:
        """Import every valid row; invalid rows and unmatched emails are reported, not stored."""
        async with unit_of_work(self.sessions) as uow:
            cohort = await uow.cohorts.by_key(cohort_key)
            if cohort is None:
                raise UnknownCohort(cohort_key, [c.key for c in await uow.cohorts.all()])
            channel_id = (await uow.cohorts.channels(cohort.id)).get(self.platform)
            cohort_id = cohort.id
        report = ImportReport(cohort_key, cohort.name, self.platform)
        report.results += [RowResult(p.line, p.email, Outcome.INVALID, p.reason) for p in problems]
        broken: str | None = None
        for row in rows:
            result: RowResult | None = None
            if broken is None:
                try:
                    result = await self._row(row, cohort_id, channel_id, report)
                except DirectoryUnavailable as error:
                    # Asking again for every other row would only fail the same way.
                    broken = f"not looked up: {error}"
            if result is None:
                result = RowResult(row.line, row.email, Outcome.NOT_MATCHED, str(broken))
            report.results.append(result)
            if progress is not None:
                progress(result)
        return report

    async def _row(
        self, row: RosterRow, cohort_id: int, channel_id: str | None, report: ImportReport
    ) -> RowResult:
        try:
            user = await self.directory.lookup_by_email(row.email, channel_id=channel_id)
        except UserNotFound as missing:
            return RowResult(row.line, row.email, Outcome.NOT_MATCHED, missing.reason)
        async with unit_of_work(self.sessions) as uow:
            cohort = await uow.cohorts.get(cohort_id)
            assert cohort is not None  # read above; cohorts are never deleted
            effects = Effects(
                uow,
                # Stable per person and cohort: a repeated import queues nothing twice.
                source=f"roster:{cohort.key}:{self.platform}:{user.workspace}:{user.user_id}",
                now=self.clock(),
                platforms=self.platforms,
                origin=Origin(platform=self.platform, workspace=user.workspace),
            )
            person = await self._person(uow, row, user, effects.now)
            new = await self._grant(effects, row, person, cohort)
            report.queued += effects.queued
        outcome = Outcome.IMPORTED if new else Outcome.ALREADY
        return RowResult(row.line, row.email, outcome, person_id=person.id)

    async def _person(
        self, uow: UnitOfWork, row: RosterRow, user: PlatformUser, now: datetime
    ) -> Person:
        """The person behind the platform user; someone already known by email is reused."""
        people = uow.people
        known = await people.find_identity(
            self.platform, user.workspace, user.user_id
        ) or await people.find_identity(self.platform, "", user.user_id)
        person: Person | None = None
        if known is None:
            person = await people.by_email(row.email)
            if person is not None and not await _has_identity_on(uow, person, self.platform):
                await _attach(uow, person, row, user, self.platform)
            else:
                person = None
        if person is None:
            person = await people.ensure(
                IdentityFacts(
                    platform=self.platform,
                    workspace=user.workspace,
                    user_id=user.user_id,
                    display_name=user.display_name or row.name,
                    # The roster's zone first; it only seeds a new person: someone who
                    # confirmed theirs in onboarding keeps it.
                    time_zone=row.time_zone or user.time_zone,
                    email=row.email,
                ),
                now=now,
            )
        _update_profile(person, row)
        return person

    async def _grant(
        self, effects: Effects, row: RosterRow, person: Person, cohort: Cohort
    ) -> bool:
        """Give the row's role; participants start onboarding. False if they had it."""
        uow = effects.uow
        if row.role == Role.PARTICIPANT:
            if not await uow.activity.count(
                verb="cohort.invited", cohort_id=cohort.id, person_id=person.id
            ):
                effects.log(
                    "cohort.invited",
                    person_id=person.id,
                    cohort_id=cohort.id,
                    data={"by": "roster"},
                )
            new = await enrol(
                engine=self.flows, effects=effects, person=person, cohort=cohort, by=None
            )
        else:
            new = await uow.cohorts.add_member(
                cohort_id=cohort.id, person_id=person.id, role=row.role, now=effects.now
            )
            if new:
                effects.log(
                    "cohort.role_granted",
                    person_id=person.id,
                    cohort_id=cohort.id,
                    data={"role": row.role.value, "by": "roster"},
                )
        if new:
            effects.log(
                "roster.imported",
                person_id=person.id,
                cohort_id=cohort.id,
                data={"line": row.line, "role": row.role.value, "platform": self.platform},
            )
        return new


async def _has_identity_on(uow: UnitOfWork, person: Person, platform: str) -> bool:
    return any(ws.platform == platform for _identity, ws in await uow.people.identities(person.id))


async def _attach(
    uow: UnitOfWork, person: Person, row: RosterRow, user: PlatformUser, platform: str
) -> None:
    """Give a person known by email (from app.yaml or another platform) this identity."""
    workspace = await uow.people.workspace(platform, user.workspace)
    uow.session.add(
        Identity(
            person_id=person.id,
            workspace_id=workspace.id,
            platform_user_id=user.user_id,
            display_name=user.display_name or row.name,
            email=row.email,
            time_zone=user.time_zone,
            reachable=True,
        )
    )
    await uow.session.flush()


def _update_profile(person: Person, row: RosterRow) -> None:
    """Department and manager from the roster; empty cells leave what is there."""
    facts = {"department": row.department, "manager_email": row.manager_email}
    changes = {key: value for key, value in facts.items() if value}
    if any(person.profile.get(key) != value for key, value in changes.items()):
        # A new dict: the JSON column only notices assignment, not mutation.
        person.profile = {**person.profile, **changes}
