"""Automatic escalations: a periodic sweep per cohort raises what nobody flagged.

Overdue reviews (past their deadline plus the program's `review.sla_hours_overdue`),
participants inactive for `escalation.inactive_days`, and outbox messages that were
dead-lettered. Each is keyed by what it is about, so it fires once however often the
sweep runs; a new inactivity (a later `inactive_since`) is a new escalation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.config import AppConfig
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.effects import Effects
from bot.runtime.recurrence import every
from bot.runtime.scheduler import CohortTimer, TaskContext
from flows.escalation.core import raise_escalation
from storage.models import Cohort, OutboxMessage, Person
from storage.repositories.escalations import NewEscalation

SWEEP_TASK = "escalation.sweep"
DEAD_LETTER_PREFIX = "dead_letter:"
PING_PREFIX = "escalation:"
"""Moderators' pings are sent under this logical key; they never escalate themselves."""


def sweep_key(cohort_id: int) -> str:
    return f"escalation:sweep:{cohort_id}"


async def install_sweep(setup: CohortSetupContext) -> None:
    """Sweep the cohort every `sweep_minutes`; after downtime it runs once and carries on."""
    await setup.timers.ensure_repeating(
        key=sweep_key(setup.cohort.id),
        task=SWEEP_TASK,
        rule=every(minutes=setup.program.escalation.sweep_minutes),
        time_zone=setup.cohort.time_zone,
        payload=CohortTimer(cohort_id=setup.cohort.id),
    )


async def sweep(task: TaskContext, *, config: AppConfig) -> int:
    """Raise every automatic escalation due for one cohort; returns how many were new."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    if cohort is None or not cohort.is_active:
        return 0
    program = config.programs.get(cohort.program)
    if program is None:
        return 0
    effects = task.effects
    candidates = [
        *await _overdue_reviews(effects, cohort, overdue_after=program.review.sla_hours_overdue),
        *await _inactive(effects, cohort, days=program.escalation.inactive_days),
        *await _dead_letters(effects, cohort),
    ]
    raised = 0
    for new in candidates:
        raised += await raise_escalation(effects, new, config=config) is not None
    return raised


async def _overdue_reviews(
    effects: Effects, cohort: Cohort, *, overdue_after: int
) -> list[NewEscalation]:
    uow = effects.uow
    overdue = await uow.escalations.overdue_reviews(
        cohort.id, due_before=effects.now - timedelta(hours=overdue_after)
    )
    keys = {f"review_overdue:{a.id}" for a, _r in overdue}
    done = await uow.escalations.existing_keys(keys)
    found = []
    for assignment, request in overdue:
        key = f"review_overdue:{assignment.id}"
        if key in done:
            continue
        people = await uow.people.by_ids([assignment.reviewer_id, request.author_id])
        reviewer, author = people.get(assignment.reviewer_id), people.get(request.author_id)
        found.append(
            NewEscalation(
                kind="review_overdue",
                dedup_key=key,
                cohort_id=cohort.id,
                subject_id=assignment.reviewer_id,
                summary=(
                    f"{_name(reviewer)}'s review of {_name(author)}'s request "
                    f"#{request.id} was due {assignment.due_at:%Y-%m-%d %H:%M} UTC "
                    f"and is still not in."
                ),
                context={"assignment_id": assignment.id, "request_id": request.id},
            )
        )
    return found


async def _inactive(effects: Effects, cohort: Cohort, *, days: int) -> list[NewEscalation]:
    uow = effects.uow
    members = await uow.escalations.inactive_since(
        cohort.id, before=effects.now - timedelta(days=days)
    )
    keyed = {
        f"inactive:{m.id}:{m.inactive_since.isoformat()}": m
        for m in members
        if m.inactive_since is not None
    }
    done = await uow.escalations.existing_keys(set(keyed))
    people = await uow.people.by_ids([m.person_id for m in keyed.values()])
    found = []
    for key, membership in keyed.items():
        if key in done or membership.inactive_since is None:
            continue
        found.append(
            NewEscalation(
                kind="inactive",
                dedup_key=key,
                cohort_id=cohort.id,
                subject_id=membership.person_id,
                summary=(
                    f"{_name(people.get(membership.person_id))} has not answered anything "
                    f"since {membership.inactive_since:%Y-%m-%d} (over {days} days)."
                ),
                context={"membership_id": membership.id},
            )
        )
    return found


async def _dead_letters(effects: Effects, cohort: Cohort) -> list[NewEscalation]:
    """Undeliverable messages to this cohort's people or channels.

    A message with neither (say, to a channel no cohort owns) goes to the first active
    cohort, so it is raised exactly once and by a deterministic sweep.
    """
    uow = effects.uow
    rows = await uow.escalations.unraised_dead_letters(
        key_prefix=DEAD_LETTER_PREFIX, skip_ref_prefix=PING_PREFIX
    )
    if not rows:
        return []
    channels = set((await uow.cohorts.channels(cohort.id)).items())
    members = {person.id for person, _role in await uow.cohorts.members(cohort.id)}
    first = min(
        (c.id for c in await uow.cohorts.all() if c.is_active),
        default=cohort.id,
    )
    found = []
    for row in rows:
        owner = await _owning_cohort(effects, row)
        mine = (row.person_id in members) or ((row.platform, _channel(row)) in channels)
        if not mine and not (owner is None and cohort.id == first):
            continue
        found.append(
            NewEscalation(
                kind="dead_letter",
                dedup_key=f"{DEAD_LETTER_PREFIX}{row.id}",
                cohort_id=cohort.id,
                subject_id=row.person_id,
                summary=(
                    f"A {row.platform} message could not be delivered after "
                    f"{row.attempts} attempts: {_preview(row.message)}"
                ),
                context={"outbox_id": row.id, "error": (row.last_error or "")[:500]},
            )
        )
    return found


async def _owning_cohort(effects: Effects, row: OutboxMessage) -> int | None:
    """Some cohort this message concerns (by recipient or channel), if any."""
    if row.person_id is not None:
        mine = await effects.uow.cohorts.cohorts_of(row.person_id)
        if mine:
            return mine[0][0].id
    channel = _channel(row)
    if channel:
        owner = await effects.uow.cohorts.by_channel(row.platform, channel)
        if owner is not None:
            return owner.id
    return None


def _channel(row: OutboxMessage) -> str:
    return str((row.target or {}).get("channel_id") or "")


def _preview(message: dict[str, Any]) -> str:
    text = str(message.get("text", "")).strip().replace("\n", " ")
    return f"“{text[:140]}{'…' if len(text) > 140 else ''}”"


def _name(person: Person | None) -> str:
    return person.display_name if person is not None and person.display_name else "someone"
