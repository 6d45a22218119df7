"""Bring the database in line with app.yaml: cohorts, channels, staff roles, invitations.

Runs at every start and is idempotent: nothing is duplicated, nothing removed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.config import AppConfig, CohortConfig
from bot.model.roles import Role
from storage.models import Cohort
from storage.repositories.people import IdentityFacts
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

STAFF_ROLES = {
    "facilitators": Role.FACILITATOR,
    "moderators": Role.MODERATOR,
    "owners": Role.OWNER,
    "mentors": Role.MENTOR,
}


async def seed_from_config(uow: UnitOfWork, config: AppConfig, *, now: datetime) -> None:
    for cohort_config in config.cohorts:
        cohort = await uow.cohorts.upsert(
            key=cohort_config.id,
            name=cohort_config.name,
            program=cohort_config.program,
            time_zone=cohort_config.time_zone,
            now=now,
            start_date=cohort_config.start_date,
        )
        for platform, channel_id in cohort_config.channels.items():
            if channel_id:
                await uow.cohorts.set_channel(cohort, platform, channel_id)
        await _seed_people(uow, config, cohort_config, cohort, now=now)


async def _seed_people(
    uow: UnitOfWork,
    config: AppConfig,
    cohort_config: CohortConfig,
    cohort: Cohort,
    *,
    now: datetime,
) -> None:
    for field, role in STAFF_ROLES.items():
        for ref in getattr(cohort_config, field):
            person_id = await _person_for(uow, config, ref, now=now)
            if person_id is None:
                continue
            if await uow.cohorts.add_member(
                cohort_id=cohort.id, person_id=person_id, role=role, now=now
            ):
                uow.activity.append(
                    verb="cohort.role_granted",
                    at=now,
                    person_id=person_id,
                    cohort_id=cohort.id,
                    data={"role": role.value, "by": "config"},
                )
    for ref in cohort_config.participants:
        person_id = await _person_for(uow, config, ref, now=now)
        if person_id is None:
            continue
        invited = await uow.activity.count(
            verb="cohort.invited", cohort_id=cohort.id, person_id=person_id
        )
        if not invited:
            uow.activity.append(
                verb="cohort.invited", at=now, person_id=person_id, cohort_id=cohort.id
            )


async def _person_for(uow: UnitOfWork, config: AppConfig, ref: str, *, now: datetime) -> int | None:
    """The person a config reference names: `platform:user_id`, or an email already known."""
    if "@" in ref and ":" not in ref:
        person = await uow.people.by_email(ref)
        if person is None:
            log.info("person by email not seen yet", extra={"ref": "email"})
        return person.id if person else None
    platform, _, user_id = ref.partition(":")
    workspace = config.platforms.local.workspace if platform == "local" else ""
    local = config.platforms.local.person(user_id) if platform == "local" else None
    person = await uow.people.ensure(
        IdentityFacts(
            platform=platform,
            workspace=workspace,
            user_id=user_id,
            display_name=local.name if local else "",
            time_zone=local.time_zone if local else None,
            email=local.email if local else None,
        ),
        now=now,
    )
    return person.id
