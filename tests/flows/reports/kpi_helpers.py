"""A migrated database with cohorts, people and hand-written activity, for the KPI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Cohort, Person
from storage.uow import UnitOfWork, unit_of_work

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 10, 1, tzinfo=UTC)


def berlin(day: int, hour: int = 12, month: int = 11) -> datetime:
    """A wall-clock moment in Berlin in November 2026 (UTC+1)."""
    return datetime(2026, month, day, hour, tzinfo=BERLIN)


@dataclass
class Seeder:
    """Adds cohorts, people and activity rows; ids by short handle."""

    sessions: SessionFactory
    people: dict[str, int] = field(default_factory=dict)
    cohorts: dict[str, int] = field(default_factory=dict)

    async def cohort(
        self, key: str, *, start: date | None, time_zone: str = "Europe/Berlin"
    ) -> int:
        async with unit_of_work(self.sessions) as uow:
            cohort = Cohort(
                key=key,
                name=f"Cohort {key}",
                program="pilot",
                time_zone=time_zone,
                start_date=start,
                created_at=CREATED,
            )
            uow.session.add(cohort)
            await uow.session.flush()
            self.cohorts[key] = cohort.id
            return cohort.id

    async def person(self, *handles: str) -> None:
        async with unit_of_work(self.sessions) as uow:
            for handle in handles:
                person = Person(display_name=handle.title(), created_at=CREATED)
                uow.session.add(person)
                await uow.session.flush()
                self.people[handle] = person.id

    async def log(
        self,
        cohort: str,
        verb: str,
        at: datetime,
        *who: str,
        obj: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """One row per person named (or one without a person when none is)."""
        async with unit_of_work(self.sessions) as uow:
            for handle in who or (None,):
                uow.activity.append(
                    verb=verb,
                    at=at,
                    person_id=self.people[handle] if handle else None,
                    cohort_id=self.cohorts[cohort],
                    object_ref=obj,
                    data=data,
                )

    async def get_cohort(self, key: str) -> Cohort:
        async with unit_of_work(self.sessions) as uow:
            cohort = await uow.cohorts.by_key(key)
        assert cohort is not None
        return cohort


@asynccontextmanager
async def seeded(database_url: str) -> AsyncIterator[Seeder]:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        yield Seeder(session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def reading(seeder: Seeder) -> AsyncIterator[UnitOfWork]:
    async with unit_of_work(seeder.sessions) as uow:
        yield uow
