"""What `cohortbot simulate` leaves in its database, so the database opens as the run ended.

A simulated program runs on a virtual clock (in 2027 by default), so against today's
clock its data is all in the future or long past. The run records when it ended and
who its staff were: reports default to "as of the end of the run", and the playground
offers the simulated staff, so `/cohort dashboard` works as the program owner.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from storage.uow import UnitOfWork

ENDED_AT = "simulation.ended_at"
STAFF = "simulation.staff"


@dataclass(frozen=True)
class SimulatedPerson:
    """A simulated staff member, as the playground lists people."""

    id: str
    name: str
    time_zone: str = "UTC"


async def record(
    uow: UnitOfWork, *, ended_at: datetime, staff: list[SimulatedPerson], now: datetime
) -> None:
    await uow.settings.put(ENDED_AT, ended_at.isoformat(), now=now)
    await uow.settings.put(STAFF, json.dumps([asdict(person) for person in staff]), now=now)


async def ended_at(uow: UnitOfWork) -> datetime | None:
    """When the simulated run in this database ended; None for a database of a live bot."""
    raw = await uow.settings.get(ENDED_AT)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


async def report_time(uow: UnitOfWork, now: datetime) -> datetime:
    """The moment reports describe by default: the end of a simulated run, else now."""
    return await ended_at(uow) or now


async def staff(uow: UnitOfWork) -> list[SimulatedPerson]:
    """The simulated facilitator, moderator and program owner, if this is a simulation."""
    raw = await uow.settings.get(STAFF)
    if raw is None:
        return []
    try:
        listed = json.loads(raw)
        return [SimulatedPerson(**person) for person in listed]
    except (ValueError, TypeError):
        return []
