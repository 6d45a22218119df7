"""A matching cycle: forming, storing and introducing the groups, and the pairing cadence
that runs one on program days. `/cohort pair` (in commands) runs one now. What the
intro and the facilitator's summary say is in `flows.matching.view`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import AppConfig, ProgramConfig
from bot.model.messages import Message
from bot.model.roles import Role
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.effects import Effects
from bot.runtime.recurrence import weekly
from bot.runtime.scheduler import CohortTimer, TaskContext, Timers
from flows.common.availability import (
    is_program_day,
    local_day,
    next_program_day,
    program_week,
    tell_role,
)
from flows.matching import meet_check, view
from flows.matching.pairing import Candidate, Group, History, match
from storage.models import Cohort, MatchGroup, Person
from storage.repositories.matching import NewGroup
from storage.repositories.participation import is_away

CYCLE_TASK = "matching.cycle"


class NotEnoughPeople(Exception):
    """A cycle cannot be formed; the message says why, for the facilitator."""


@dataclass(frozen=True)
class Cycle:
    """What one matching cycle formed, and who was left out and why."""

    cohort: Cohort
    number: int
    mode: str
    groups: list[MatchGroup]
    names: dict[int, str]
    left_out: list[tuple[str, str]] = field(default_factory=list)
    """(name, reason) for participants not matched this cycle."""


def cycle_seed(cohort_id: int, cycle: int) -> int:
    """A stable seed per cohort and cycle, so re-running a cycle gives the same groups."""
    return zlib.crc32(f"{cohort_id}:{cycle}".encode())


def candidate(person: Person) -> Candidate:
    """A participant as matching sees them, from their onboarding profile."""
    profile = person.profile or {}
    return Candidate(
        id=person.id,
        name=person.display_name,
        strengths=frozenset(_skills(profile.get("strengths"))),
        gaps=frozenset(_skills(profile.get("skills_to_learn"))),
        time_zone=person.time_zone,
    )


def _skills(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _left_out_reason(person: Person, inactive_since: datetime | None, day_away: bool) -> str:
    if day_away and person.away_until is not None:
        return f"away until {person.away_until:%a %d %b}"
    if inactive_since is not None:
        return f"inactive since {inactive_since:%a %d %b} (prompts unanswered)"
    return "not available"


async def run_cycle(
    *, effects: Effects, cohort: Cohort, program: ProgramConfig, mode: str
) -> Cycle:
    """Form, store and introduce one cycle's groups; raises NotEnoughPeople when it can't."""
    uow = effects.uow
    await uow.matching.lock_cohort(cohort.id)
    day = local_day(effects.now, cohort.time_zone)
    available: list[Person] = []
    left_out: list[tuple[str, str]] = []
    for person, membership in await uow.participation.participants(cohort.id):
        away = is_away(person, day)
        if away or membership.inactive_since is not None:
            reason = _left_out_reason(person, membership.inactive_since, away)
            left_out.append((person.display_name, reason))
        else:
            available.append(person)
    mentors = [
        person
        for person, role in await uow.cohorts.members(cohort.id)
        if role == Role.MENTOR and not is_away(person, day)
    ]
    _check_enough(available, mentors, mode, left_out)
    number = await uow.matching.last_cycle(cohort.id) + 1
    history = History.of(
        Group(members=tuple(g.members), mentor=g.mentor_id)
        for g in await uow.matching.history(cohort.id)
    )
    formed = match(
        [candidate(p) for p in available],
        mode=mode,
        mentors=[m.id for m in sorted(mentors, key=lambda m: m.id)],
        history=history,
        seed=cycle_seed(cohort.id, number),
        on=effects.now,
    )
    groups = await uow.matching.save_cycle(
        cohort_id=cohort.id,
        cycle=number,
        mode=mode,
        groups=[NewGroup(g.members, g.mentor, g.reasons) for g in formed],
        now=effects.now,
    )
    names = {p.id: p.display_name for p in (*available, *mentors)}
    cycle = Cycle(cohort, number, mode, groups, names, left_out)
    timers = Timers(uow, effects.now)
    for group in groups:
        _log_group(effects, cycle, group)
        await effects.group(_everyone(group), view.intro(cohort.name, group, names, program))
        await meet_check.schedule_meet_checks(
            timers=timers, program=program, cohort=cohort, group=group
        )
    effects.log(
        "pairing.cycle",
        cohort_id=cohort.id,
        data={"cycle": number, "mode": mode, "groups": len(groups), "left_out": len(left_out)},
    )
    return cycle


def _check_enough(
    available: Sequence[Person],
    mentors: Sequence[Person],
    mode: str,
    left_out: list[tuple[str, str]],
) -> None:
    if len(available) < 2:
        who = "; ".join(f"{name} ({reason})" for name, reason in left_out)
        raise NotEnoughPeople(
            f"Only {len(available)} participant(s) can be paired right now, so I formed "
            "no groups." + (f" Not available: {who}." if who else "")
        )
    if mode == "triads" and not mentors:
        raise NotEnoughPeople(
            "Triads need a mentor, and no mentor of this cohort is available. Add mentors "
            "in app.yaml, or run `/cohort pair pairs`."
        )


def _everyone(group: MatchGroup) -> list[int]:
    return [*group.members, *([group.mentor_id] if group.mentor_id is not None else [])]


def _log_group(effects: Effects, cycle: Cycle, group: MatchGroup) -> None:
    for person_id in group.members:
        effects.log(
            "pairing.matched",
            person_id=person_id,
            cohort_id=cycle.cohort.id,
            object_ref=f"match_group:{group.id}",
            data={
                "cycle": cycle.number,
                "mode": cycle.mode,
                "members": list(group.members),
                "mentor": group.mentor_id,
            },
        )


def summary(cycle: Cycle) -> str:
    """For the facilitator: every group, and everyone left out with the reason."""
    return view.summary(
        cohort_name=cycle.cohort.name,
        number=cycle.number,
        mode=cycle.mode,
        groups=cycle.groups,
        names=cycle.names,
        left_out=cycle.left_out,
    )


def cadence_key(cohort_id: int) -> str:
    return f"matching:{cohort_id}:cadence"


async def install_cadence(ctx: CohortSetupContext) -> None:
    """Pair every `pairing_every_weeks` from the kickoff, on `matching.pair_on`."""
    cohort, program = ctx.cohort, ctx.program
    if cohort.start_date is None:
        await ctx.timers.cancel(cadence_key(cohort.id))
        return
    fields = program.matching.pair_on.cron_fields()
    await ctx.timers.ensure_repeating(
        key=cadence_key(cohort.id),
        task=CYCLE_TASK,
        rule=weekly(
            day_of_week=str(fields["day_of_week"]),
            hour=int(fields["hour"]),
            minute=int(fields["minute"]),
            every_weeks=program.cadence.pairing_every_weeks,
            start=cohort.start_date,
        ),
        time_zone=cohort.time_zone,
        payload=CohortTimer(cohort_id=cohort.id),
    )


async def cadenced_cycle(task: TaskContext, config: AppConfig) -> None:
    """A scheduled cycle; on a holiday or skipped weekend it moves to the next program day."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    if cohort is None or not cohort.is_active or cohort.program not in config.programs:
        return
    program = config.programs[cohort.program]
    day = local_day(task.now, cohort.time_zone)
    if program_week(cohort, day) is None:
        return  # before the kickoff
    if not is_program_day(program, day):
        moved = next_program_day(program, day)
        at = datetime.combine(moved, program.matching.pair_on.time, ZoneInfo(cohort.time_zone))
        await Timers(task.uow, task.now).run_once(
            key=f"matching:{cohort.id}:moved:{moved.isoformat()}",
            task=CYCLE_TASK,
            at=at,
            payload=CohortTimer(cohort_id=cohort.id),
        )
        task.effects.log(
            "pairing.moved",
            cohort_id=cohort.id,
            data={"from": day.isoformat(), "to": moved.isoformat()},
        )
        return
    try:
        cycle = await run_cycle(
            effects=task.effects, cohort=cohort, program=program, mode=program.matching.mode
        )
    except NotEnoughPeople as problem:
        task.effects.log("pairing.skipped", cohort_id=cohort.id, data={"reason": str(problem)})
        text = f"No pairing in {cohort.name} this time. {problem}"
    else:
        text = summary(cycle)
    await tell_role(task.effects, cohort.id, Role.FACILITATOR, Message(text=text))
