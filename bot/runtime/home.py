"""The person's home page: their cohorts, the next session, and what waits for them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import AppConfig
from bot.model.messages import Block, Context, Divider, Fields, Message, Section
from bot.runtime.recurrence import next_after, weekly
from storage.models import Cohort, Person
from storage.uow import UnitOfWork

ROLE_LABELS = {
    "participant": "participant",
    "mentor": "mentor",
    "facilitator": "facilitator",
    "moderator": "moderator",
    "owner": "program owner",
}


def next_session(config: AppConfig, cohort: Cohort, now: datetime) -> datetime | None:
    """The next session by the cohort's cadence, in the cohort's time zone."""
    cohort_config = config.cohort(cohort.key)
    program = config.programs.get(cohort.program)
    if cohort_config is None or program is None:
        return None
    cadence = cohort_config.effective_cadence(program)
    if cadence.session is None:
        return None
    fields = cadence.session.cron_fields()
    rule = weekly(
        day_of_week=str(fields["day_of_week"]),
        hour=int(fields["hour"]),
        minute=int(fields["minute"]),
        every_weeks=cadence.every_weeks,
        start=cohort_config.start_date or now.astimezone(UTC).date(),
    )
    found = next_after(rule, cohort.time_zone, now)
    return found.astimezone(ZoneInfo(cohort.time_zone)) if found else None


async def home_page(uow: UnitOfWork, config: AppConfig, person: Person, now: datetime) -> Message:
    blocks: list[Block] = [Section(text=f"*Hi {person.display_name.split(' ')[0]}!*")]
    cohorts = await uow.cohorts.cohorts_of(person.id)
    if not cohorts:
        blocks.append(
            Section(text="You are not in a cohort yet. Type `/cohort cohorts` to find one.")
        )
    for cohort, roles in cohorts:
        session = next_session(config, cohort, now)
        items = [("Your role", ", ".join(sorted(ROLE_LABELS.get(r, r) for r in roles)))]
        if session is not None:
            items.append(("Next session", f"{session:%a %d %b, %H:%M} ({cohort.time_zone})"))
        items += await _recognition(uow, config, person, cohort)
        blocks += [Divider(), Section(text=f"*{cohort.name}*"), Fields(items=items)]
    waiting = await uow.flow_runs.waiting(person.id)
    blocks.append(Divider())
    if waiting:
        lines = "\n".join(
            f"• {run.flow.replace('_', ' ')}: {run.step.replace('_', ' ')}" for run in waiting
        )
        blocks.append(Section(text=f"*Waiting for you*\n{lines}"))
    else:
        blocks.append(
            Context(text="Nothing is waiting for you. Type `/cohort help` to see what I can do.")
        )
    return Message(text=f"cohortbot home for {person.display_name}", blocks=blocks)


async def _recognition(
    uow: UnitOfWork, config: AppConfig, person: Person, cohort: Cohort
) -> list[tuple[str, str]]:
    """The person's badges and kudos received in the cohort, when there are any."""
    program = config.programs.get(cohort.program)
    names = {badge.id: badge.name for badge in program.badges} if program else {}
    badges = [names.get(a.badge, a.badge) for a in await uow.badges.of_person(person.id, cohort.id)]
    kudos = await uow.badges.kudos_received(person.id, cohort.id)
    items: list[tuple[str, str]] = []
    if badges:
        items.append(("Badges", ", ".join(f"\U0001f3c5 {name}" for name in badges)))
    if kudos:
        items.append(("Kudos received", str(kudos)))
    return items
