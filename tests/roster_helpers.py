"""Running `cohortbot import-roster` from tests and reading what it stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli.main import main
from bot.runtime.clock import ManualClock
from storage.db import create_engine, session_factory
from storage.models import Activity, Identity, Membership, OutboxMessage, Person, Workspace
from storage.uow import UnitOfWork, unit_of_work
from tests.conftest import PILOT_CONFIG

HEADER = "name,email,department,manager email,time zone,role\n"


def write_roster(directory: Path, *rows: str, name: str = "roster.csv") -> Path:
    path = directory / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def invoke(roster: Path, *options: str, env: dict[str, str]) -> Result:
    """The CLI as an operator runs it, with the tests' pilot configuration."""
    args = ["import-roster", str(roster), "--config", str(PILOT_CONFIG), *options]
    return CliRunner().invoke(main, args, env=env)


async def invoke_beside(roster: Path, *options: str, env: dict[str, str]) -> Result:
    """The CLI on its own thread and event loop, while fakes serve on this one."""
    return await asyncio.to_thread(invoke, roster, *options, env=env)


def after_the_import() -> ManualClock:
    """A clock for the bot that delivers: the import queued rows at the real time."""
    return ManualClock(datetime.now(UTC) + timedelta(minutes=1))


@dataclass(frozen=True)
class Stored:
    people: int
    identities: int
    memberships: int
    outbox: int
    activity: dict[str, int]


@asynccontextmanager
async def database(url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(url)
    try:
        async with unit_of_work(session_factory(engine)) as uow:
            yield uow
    finally:
        await engine.dispose()


async def stored(url: str) -> Stored:
    async with database(url) as uow:
        session = uow.session

        async def count(model: Any) -> int:
            return int(await session.scalar(select(func.count(model.id))) or 0)

        verbs = await session.execute(
            select(Activity.verb, func.count(Activity.id)).group_by(Activity.verb)
        )
        return Stored(
            people=await count(Person),
            identities=await count(Identity),
            memberships=await count(Membership),
            outbox=await count(OutboxMessage),
            activity={verb: int(n) for verb, n in verbs},
        )


async def person_by_email(url: str, email: str) -> dict[str, Any]:
    """A person with their identities (platform, workspace, user id) and roles in cohorts."""
    async with database(url) as uow:
        person = await uow.people.by_email(email)
        assert person is not None, f"nobody with {email}"
        identities = await uow.session.execute(
            select(Workspace.platform, Workspace.tenant_id, Identity.platform_user_id)
            .join(Workspace, Workspace.id == Identity.workspace_id)
            .where(Identity.person_id == person.id)
            .order_by(Identity.id)
        )
        roles = await uow.session.scalars(
            select(Membership.role).where(Membership.person_id == person.id)
        )
        return {
            "id": person.id,
            "name": person.display_name,
            "time_zone": person.time_zone,
            "profile": dict(person.profile),
            "identities": [tuple(row) for row in identities],
            "roles": sorted(roles),
        }
