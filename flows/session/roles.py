"""Who takes the notes and who facilitates: both rotate, so nobody does it every week."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.config import ProgramConfig
from flows.common.availability import local_day
from storage.models import Cohort, Person
from storage.uow import UnitOfWork


async def choose_note_taker(
    uow: UnitOfWork, cohort_id: int, *, passed: Collection[int] = ()
) -> int | None:
    """The participant with the fewest turns, among those who came to a session before.

    Before anyone has attended, every participant is a candidate; those who `passed`
    (declined this session) are not. Ties go by name, so the choice is the same however
    often it is computed.
    """
    participants = [
        person
        for person, _m in await uow.participation.participants(cohort_id)
        if person.id not in passed
    ]
    attended = await uow.cohort_sessions.attended_ever(cohort_id)
    candidates = [p for p in participants if p.id in attended] or participants
    if not candidates:
        return None
    turns = await uow.cohort_sessions.note_taker_turns(cohort_id)
    return min(candidates, key=lambda p: (turns.get(p.id, 0), p.display_name, p.id)).id


async def rotating_facilitator(
    uow: UnitOfWork, cohort: Cohort, program: ProgramConfig, *, number: int, now: datetime
) -> Person | None:
    """The participant named to facilitate session `number`, when the program rotates it."""
    if not program.session.rotate_facilitator:
        return None
    day = local_day(now, cohort.time_zone)
    candidates = await uow.participation.promptable(cohort.id, day)
    if not candidates:
        return None
    return candidates[(number - 1) % len(candidates)]
