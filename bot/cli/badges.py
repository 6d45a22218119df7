"""`cohortbot export-badges`: a person's badges as Open Badges 2.0 assertions.

Exit codes: 0 when the assertions were written (an empty list when the person has no
badges yet), 1 when the person is unknown or has no email address, 2 for usage errors
(unknown cohort, a database that is not migrated, an unwritable output file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bot.cli.common import app_config, config_option, run_async
from bot.cli.errors import UsageError
from bot.config import AppConfig

# An entry point, like the composition root, so it may name the flow module it uses.
from flows.recognition.open_badges import assertion, issued_award
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Person
from storage.uow import UnitOfWork, unit_of_work

COMMAND = "export-badges"
EXIT_PERSON = 1
"""The person is unknown or has no email address to name the recipient by."""


@click.command(COMMAND)
@config_option
@click.option(
    "--person",
    "person",
    required=True,
    help="Whose badges: an email, a platform:user id (slack:U0123, local:alex) or a number.",
)
@click.option("--cohort", "cohort_key", default=None, help="Only the badges of this cohort.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON here instead of to standard output.",
)
def export_badges(
    config_path: Path | None, person: str, cohort_key: str | None, out: Path | None
) -> None:
    """Export a person's badges as Open Badges 2.0 assertions (a JSON list).

    The recipient is the person's email, hashed with a salt; verification is hosted,
    with ids under server.public_url. Exit code 0: written; 1: the person is unknown
    or has no email; 2: usage error.
    """
    config = app_config(config_path)
    export = run_async(lambda: gather_badges(config, person=person, cohort_key=cohort_key))
    text = json.dumps(export.assertions, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {out}: {error}", command=COMMAND) from None
    name = export.person.display_name or person
    where = f" to {out}" if out else ""
    click.echo(f"Exported {len(export.assertions)} badge(s) of {name}{where}.", err=True)
    if not config.server.public_url:
        click.echo(
            "server.public_url is not set: the ids are urn:uuid names, so the badges "
            "cannot be verified as hosted until it is (COHORTBOT_PUBLIC_URL).",
            err=True,
        )


@dataclass(frozen=True)
class BadgeExport:
    """A person and the assertions of the badges they were awarded."""

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


async def gather_badges(
    config: AppConfig, *, person: str, cohort_key: str | None = None
) -> BadgeExport:
    """The person's badge assertions, of one cohort with `cohort_key`; a UsageError says why not."""
    engine = create_engine(config.storage.url)
    try:
        if not await migrate.is_current(engine):
            raise UsageError(
                "the database is not at the latest schema; run `cohortbot db upgrade` first",
                command=COMMAND,
            )
        async with unit_of_work(session_factory(engine)) as uow:
            return await _gather(uow, config, wanted=person, cohort_key=cohort_key)
    finally:
        await engine.dispose()


async def _gather(
    uow: UnitOfWork, config: AppConfig, *, wanted: str, cohort_key: str | None
) -> BadgeExport:
    cohort_id = None
    if cohort_key is not None:
        cohort = await uow.cohorts.by_key(cohort_key.lower())
        if cohort is None:
            known = ", ".join(c.key for c in await uow.cohorts.all()) or "none"
            raise UsageError(
                f"there is no cohort '{cohort_key}' (cohorts: {known})", command=COMMAND
            )
        cohort_id = cohort.id
    person = await find_person(uow, wanted)
    if person is None:
        raise UsageError(
            f"nobody is known as '{wanted}'; give an email, platform:user id or person number",
            exit_code=EXIT_PERSON,
            command=COMMAND,
        )
    if not person.email:
        raise UsageError(
            f"{person.display_name or wanted} has no email address, and an Open Badges "
            "recipient is named by email; add it (e.g. with the roster import)",
            exit_code=EXIT_PERSON,
            command=COMMAND,
        )
    base_url = config.server.public_url
    documents = []
    for award in await uow.badges.of_person(person.id, cohort_id):
        issued = await issued_award(uow, config, award.id)
        if issued is not None:  # a badge no longer in app.yaml cannot be described
            documents.append(assertion(issued, person, base_url=base_url))
    return BadgeExport(person=person, assertions=documents)
