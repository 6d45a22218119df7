"""Where statements come from: the installation's vocabulary and batches of log entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import AppConfig
from bot.xapi.statements import Vocabulary, build_statement
from storage.models import Activity
from storage.uow import UnitOfWork

NAMESPACE_SETTING = "xapi.namespace"
"""A random UUID generated once per database: statement ids and pseudonyms derive from it,
so they stay the same across restarts and replicas, and two installations posting to one
LRS never produce the same statement id."""


def base_url(config: AppConfig) -> str:
    """The bot's public URL, else the address it listens on."""
    server = config.server
    return (server.public_url or f"http://{server.host}:{server.port}").rstrip("/")


async def load_vocabulary(uow: UnitOfWork, config: AppConfig, *, now: datetime) -> Vocabulary:
    namespace = await uow.settings.get_or_create(
        NAMESPACE_SETTING, make=lambda: str(uuid.uuid4()), now=now
    )
    url = base_url(config)
    return Vocabulary(
        base_url=url,
        namespace=uuid.UUID(namespace),
        home_page=config.xapi.account_home_page or url,
        actor_mode=config.xapi.actor,
        programs=config.programs,
    )


async def statements_for(
    uow: UnitOfWork, entries: Sequence[Activity], vocabulary: Vocabulary
) -> list[tuple[Activity, dict[str, Any]]]:
    """Each mapped entry with its statement; entries whose person or cohort is gone are left out."""
    people = await uow.people.by_ids(sorted({e.person_id for e in entries if e.person_id}))
    cohorts = {cohort.id: cohort for cohort in await uow.cohorts.all()}
    built = []
    for entry in entries:
        person = people.get(entry.person_id) if entry.person_id is not None else None
        cohort = cohorts.get(entry.cohort_id) if entry.cohort_id is not None else None
        if person is None or cohort is None:
            continue
        statement = build_statement(entry, person=person, cohort=cohort, vocabulary=vocabulary)
        built.append((entry, statement))
    return built
