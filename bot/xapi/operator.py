"""What `cohortbot export-xapi` and `cohortbot send-xapi` do, outside a running bot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import AppConfig
from bot.runtime.clock import SystemClock
from bot.xapi.delivery import DeliveryReport, XapiDelivery
from bot.xapi.lrs import LrsClient
from bot.xapi.source import load_vocabulary, statements_for
from bot.xapi.statements import MAPPED_VERBS
from storage import migrate
from storage.db import create_engine, session_factory
from storage.uow import unit_of_work

PAGE = 500


class UnknownCohort(Exception):
    """The --cohort given is not in the database; the message lists those that are."""


async def export_statements(
    config: AppConfig, *, cohort_key: str | None, now: datetime
) -> list[dict[str, Any]]:
    """Every mapped activity entry (or one cohort's) as a statement, oldest first.

    The ids are the ones delivery uses, so a file imported into an LRS that also gets
    the live feed duplicates nothing.
    """
    engine = create_engine(config.storage.url)
    try:
        await migrate.upgrade(engine)
        async with unit_of_work(session_factory(engine)) as uow:
            vocabulary = await load_vocabulary(uow, config, now=now)
            cohort_id = None
            if cohort_key is not None:
                cohort = await uow.cohorts.by_key(cohort_key)
                if cohort is None:
                    known = ", ".join(c.key for c in await uow.cohorts.all()) or "none"
                    raise UnknownCohort(f"there is no cohort {cohort_key!r} (cohorts: {known})")
                cohort_id = cohort.id
            statements: list[dict[str, Any]] = []
            after = 0
            while True:
                entries = await uow.xapi.mapped(
                    MAPPED_VERBS, after_id=after, limit=PAGE, cohort_id=cohort_id
                )
                statements += [s for _, s in await statements_for(uow, entries, vocabulary)]
                if len(entries) < PAGE:
                    return statements
                after = entries[-1].id
    finally:
        await engine.dispose()


async def send_now(config: AppConfig) -> DeliveryReport:
    """One delivery run against the configured LRS: queue new activity, send what is due."""
    engine = create_engine(config.storage.url)
    client = LrsClient(config.xapi)
    try:
        await migrate.upgrade(engine)
        delivery = XapiDelivery(
            sessions=session_factory(engine), clock=SystemClock(), config=config, client=client
        )
        return await delivery.deliver_due()
    finally:
        await client.close()
        await engine.dispose()


async def queue_status(config: AppConfig, *, limit: int = 50) -> tuple[dict[str, int], list[str]]:
    """Statements by status, and the latest failed ones as `statement id, activity, error`."""
    engine = create_engine(config.storage.url)
    try:
        await migrate.upgrade(engine)
        async with unit_of_work(session_factory(engine)) as uow:
            depth = await uow.xapi.depth()
            failed = [
                f"{row.statement_id}  activity {row.activity_id}  {row.last_error or ''}".rstrip()
                for row in await uow.xapi.failed(limit)
            ]
        return depth, failed
    finally:
        await engine.dispose()
