"""Moderation and escalation: one way to raise, a ping with an SLA, tier 2 for the owners.

Every source (a flagged message, `/cohort help-me`, the automatic sweep) calls
`raise_escalation`. Its dedup key makes each thing fire once: the row is inserted only
if absent, so concurrent raises of the same thing leave one escalation. The ping goes
to the moderators' channel of each platform that has one, else by DM to the cohort's
moderators (or the roles the tag routes to). A one-off timer at the acknowledgement
deadline sends it to tier 2 (the program owners) unless someone acknowledged or
resolved it first. Every step lands in the audit trail and the activity log.
"""

from __future__ import annotations

from datetime import timedelta

from typing_extensions import TypedDict

from bot.config import AppConfig, EscalationConfig, EscalationRoute
from bot.model.messages import Message, Section
from bot.model.roles import Role
from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, Timers
from flows.escalation.view import ACK_ACTION, RESOLVE_ACTION, escalation_card, kind_label
from storage.models import Cohort, Escalation, Person
from storage.repositories.escalations import NewEscalation
from storage.statuses import EscalationStatus, move

__all__ = [
    "ACK_ACTION",
    "RESOLVE_ACTION",
    "SLA_TASK",
    "STAFF",
    "acknowledge",
    "raise_escalation",
    "resolve",
    "staff_cohorts",
    "tier_two",
]

SLA_TASK = "escalation.sla"
STAFF = frozenset({Role.MODERATOR.value, Role.FACILITATOR.value, Role.OWNER.value})
"""Who may acknowledge and resolve."""
REPORTED_KINDS = frozenset({"flag", "help"})
"""Kinds raised by a person, who is told what happens; the others are automatic."""
_DEFAULT = EscalationConfig()


class EscalationTimer(TypedDict):
    """An escalation's deadline for a moderator to react."""

    escalation_id: int


def ref_key(escalation_id: int) -> str:
    """The logical key of every ping about one escalation, so all of them update together."""
    return f"escalation:{escalation_id}"


def _sla_key(escalation_id: int) -> str:
    return f"escalation:{escalation_id}:sla"


def settings(config: AppConfig, cohort: Cohort | None) -> EscalationConfig:
    """The cohort's program's escalation settings (the defaults without a program)."""
    program = config.programs.get(cohort.program) if cohort is not None else None
    return program.escalation if program is not None else _DEFAULT


async def raise_escalation(
    effects: Effects, new: NewEscalation, *, config: AppConfig
) -> Escalation | None:
    """Raise an escalation and ping the moderators; None when it was raised before."""
    uow = effects.uow
    cohort = await uow.cohorts.get(new.cohort_id) if new.cohort_id is not None else None
    sla = timedelta(hours=settings(config, cohort).ack_sla_hours)
    escalation = await uow.escalations.create(new, now=effects.now, ack_due_at=effects.now + sla)
    if escalation is None:
        return None
    escalation.ref_key = ref_key(escalation.id)
    uow.escalations.record(escalation.id, at=effects.now, action="raised", actor_id=new.reporter_id)
    effects.log(
        "escalation.raised",
        person_id=new.reporter_id,
        cohort_id=new.cohort_id,
        object_ref=f"escalation:{escalation.id}",
        data={"kind": new.kind, "tag": new.tag},
    )
    await Timers(uow, effects.now).run_once(
        key=_sla_key(escalation.id),
        task=SLA_TASK,
        at=escalation.ack_due_at,
        payload=EscalationTimer(escalation_id=escalation.id),
    )
    where = await _ping(effects, escalation, cohort, config=config)
    uow.escalations.record(
        escalation.id, at=effects.now, action="pinged", actor_id=None, note=where
    )
    return escalation


async def _ping(
    effects: Effects, escalation: Escalation, cohort: Cohort | None, *, config: AppConfig
) -> str:
    """Post to the moderators' channels, or DM the people the tag routes to; says where."""
    card = await escalation_card(effects.uow, escalation, cohort=cohort)
    escalation_settings = settings(config, cohort)
    route = escalation_settings.routes.get(escalation.tag or "") or EscalationRoute()
    cohort_config = config.cohort(cohort.key) if cohort is not None else None
    # The most specific wins: the tag's channel, the cohort's, then the program's.
    channels = {
        **escalation_settings.channels,
        **(cohort_config.moderators_channels if cohort_config is not None else {}),
        **route.channels,
    }
    posted = [
        f"{platform} channel {channel}"
        for platform, channel in sorted(channels.items())
        if channel and await effects.post(platform, channel, card, ref_key=escalation.ref_key)
    ]
    if posted:
        return ", ".join(posted)
    people = await _people_with(effects, cohort, set(route.roles))
    if not people:
        # Nobody holds the routed role: the owners still hear of it rather than nobody.
        people = await _people_with(effects, cohort, {Role.OWNER.value})
    told = [
        p.display_name for p in people if await effects.dm(p.id, card, ref_key=escalation.ref_key)
    ]
    return "DM to " + (", ".join(told) if told else "nobody (no moderators reachable)")


async def _people_with(effects: Effects, cohort: Cohort | None, roles: set[str]) -> list[Person]:
    if cohort is None:
        return []
    found: dict[int, Person] = {}
    for person, role in await effects.uow.cohorts.members(cohort.id):
        if role in roles:
            found.setdefault(person.id, person)
    return list(found.values())


async def staff_cohorts(effects: Effects, person: Person) -> set[int]:
    """The cohorts whose escalations the person may act on: moderator, facilitator, owner."""
    mine = await effects.uow.cohorts.cohorts_of(person.id)
    return {cohort.id for cohort, roles in mine if not roles.isdisjoint(STAFF)}


async def acknowledge(
    effects: Effects, escalation: Escalation, *, person: Person, note: str = ""
) -> str | None:
    """Mark it acknowledged; returns why not, when it cannot be."""
    if escalation.status == EscalationStatus.RESOLVED:
        return f"#{escalation.id} is resolved already."
    if escalation.status == EscalationStatus.ACKNOWLEDGED:
        who = await _name(effects, escalation.acknowledged_by)
        return f"#{escalation.id} was acknowledged already by {who}."
    move(escalation, EscalationStatus.ACKNOWLEDGED)
    escalation.acknowledged_at = effects.now
    escalation.acknowledged_by = person.id
    await _after_step(effects, escalation, person, action="acknowledged", note=note)
    await _tell_reporter(
        effects,
        escalation,
        f"{person.display_name} is looking at your {kind_label(escalation.kind).lower()} "
        f"(#{escalation.id}).",
    )
    return None


async def resolve(
    effects: Effects, escalation: Escalation, *, person: Person, note: str = ""
) -> str | None:
    """Mark it resolved (acknowledged or not); returns why not, when it cannot be."""
    if escalation.status == EscalationStatus.RESOLVED:
        who = await _name(effects, escalation.resolved_by)
        return f"#{escalation.id} was resolved already by {who}."
    move(escalation, EscalationStatus.RESOLVED)
    escalation.resolved_at = effects.now
    escalation.resolved_by = person.id
    await _after_step(effects, escalation, person, action="resolved", note=note)
    said = f" They said: {note}" if note else ""
    await _tell_reporter(
        effects,
        escalation,
        f"{person.display_name} resolved your {kind_label(escalation.kind).lower()} "
        f"(#{escalation.id}).{said}",
    )
    return None


async def _after_step(
    effects: Effects, escalation: Escalation, person: Person, *, action: str, note: str
) -> None:
    """Audit, log, stop the SLA timer and update every ping in place."""
    effects.uow.escalations.record(
        escalation.id, at=effects.now, action=action, actor_id=person.id, note=note
    )
    effects.log(
        f"escalation.{action}",
        person_id=person.id,
        cohort_id=escalation.cohort_id,
        object_ref=f"escalation:{escalation.id}",
    )
    await Timers(effects.uow, effects.now).cancel(_sla_key(escalation.id))
    await _refresh(effects, escalation)


async def _refresh(effects: Effects, escalation: Escalation) -> None:
    if escalation.ref_key is None:
        return
    cohort = (
        await effects.uow.cohorts.get(escalation.cohort_id)
        if escalation.cohort_id is not None
        else None
    )
    await effects.update(
        escalation.ref_key, await escalation_card(effects.uow, escalation, cohort=cohort)
    )


async def _tell_reporter(effects: Effects, escalation: Escalation, text: str) -> None:
    if escalation.reporter_id is not None and escalation.kind in REPORTED_KINDS:
        await effects.dm(escalation.reporter_id, Message(text=text, blocks=[Section(text=text)]))


async def _name(effects: Effects, person_id: int | None) -> str:
    person = await effects.uow.people.get(person_id) if person_id is not None else None
    return person.display_name if person is not None else "someone"


async def tier_two(task: TaskContext) -> None:
    """The SLA passed: an escalation nobody acknowledged goes to the program owners, once."""
    effects = task.effects
    escalation = await task.uow.escalations.get(
        task.payload_as(EscalationTimer)["escalation_id"], lock=True
    )
    if escalation is None or escalation.status != EscalationStatus.OPEN or escalation.tier != 1:
        return
    escalation.tier = 2
    escalation.escalated_at = effects.now
    effects.log(
        "escalation.tier2",
        person_id=None,
        cohort_id=escalation.cohort_id,
        object_ref=f"escalation:{escalation.id}",
    )
    cohort = (
        await task.uow.cohorts.get(escalation.cohort_id)
        if escalation.cohort_id is not None
        else None
    )
    await _refresh(effects, escalation)
    card = await escalation_card(task.uow, escalation, cohort=cohort)
    told = [
        owner.display_name
        for owner in await _people_with(effects, cohort, {Role.OWNER.value})
        if await effects.dm(owner.id, card, ref_key=escalation.ref_key)
    ]
    task.uow.escalations.record(
        escalation.id,
        at=effects.now,
        action="tier2",
        actor_id=None,
        note="DM to " + (", ".join(told) if told else "nobody (no program owner reachable)"),
    )
