"""`cohortbot export-badges`: a person's badges as Open Badges 2.0 assertions.

Exit codes: 0 when the assertions were written (an empty list when the person has no
badges yet), 1 when the person is unknown or has no email address, 2 for usage errors
(unknown cohort, a database that is not migrated, an unwritable output file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import AppConfig

# An entry point, like the composition root, so it may name the flow module it uses.
from flows.recognition.open_badges import assertion, issued_award
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Person
from storage.uow import UnitOfWork, unit_of_work

EXIT_OK, EXIT_PERSON, EXIT_USAGE = 0, 1, 2


class ExportProblem(Exception):
    """Why nothing was exported, with the exit code to end with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Export:
    person: Person
    assertions: list[dict[str, Any]]


async def find_person(uow: UnitOfWork, wanted: str) -> Person | None:
    """By email, by `platform:user id` (e.g. `slack:U0123`, `local:alex`), or by number."""
    wanted = wanted.strip()
    if "@" in wanted:
        return await uow.people.by_email(wanted)
    platform, sep, user_id = wanted.partition(":")
    if sep and user_id:
        return await uow.people.by_handle(platform.lower(), user_id)
    return await uow.people.get(int(wanted)) if wanted.isdigit() else None


async def export_badges(config: AppConfig, *, person: str, cohort_key: str | None = None) -> Export:
    engine = create_engine(config.storage.url)
    try:
        if not await migrate.is_current(engine):
            raise ExportProblem(
                "the database is not at the latest schema; run `cohortbot db upgrade` first",
                EXIT_USAGE,
            )
        async with unit_of_work(session_factory(engine)) as uow:
            return await _export(uow, config, wanted=person, cohort_key=cohort_key)
    finally:
        await engine.dispose()


async def _export(
    uow: UnitOfWork, config: AppConfig, *, wanted: str, cohort_key: str | None
) -> Export:
    cohort_id = None
    if cohort_key is not None:
        cohort = await uow.cohorts.by_key(cohort_key.lower())
        if cohort is None:
            known = ", ".join(c.key for c in await uow.cohorts.all()) or "none"
            raise ExportProblem(f"there is no cohort '{cohort_key}' (cohorts: {known})", EXIT_USAGE)
        cohort_id = cohort.id
    person = await find_person(uow, wanted)
    if person is None:
        raise ExportProblem(
            f"nobody is known as '{wanted}'; give an email, platform:user id or person number",
            EXIT_PERSON,
        )
    if not person.email:
        raise ExportProblem(
            f"{person.display_name or wanted} has no email address, and an Open Badges "
            "recipient is named by email; add it (e.g. with the roster import)",
            EXIT_PERSON,
        )
    base_url = config.server.public_url
    documents = []
    for award in await uow.badges.of_person(person.id, cohort_id):
        issued = await issued_award(uow, config, award.id)
        if issued is not None:  # a badge no longer in app.yaml cannot be described
            documents.append(assertion(issued, person, base_url=base_url))
    return Export(person=person, assertions=documents)
