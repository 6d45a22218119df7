"""Weekly check-in rounds: opened on the cadence or by command, prompted, nudged, closed.

A round belongs to a cohort. It opens at the earliest moment anyone on Earth reaches the
cadence time (Monday 09:00 in UTC+14); each participant is then prompted at the cadence
time in their own time zone, by a one-off timer computed in that zone, so a prompt stays
at 09:00 local on both sides of a DST change. One nudge follows to those who have not
answered; at close the missed ones are counted and the digest is posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from typing_extensions import TypedDict

from bot.config import AppConfig, CadenceConfig, ProgramConfig, WeeklyTime
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine, cancel_run
from bot.runtime.recurrence import next_after, weekly
from bot.runtime.scheduler import CohortTimer, TaskContext, Timers
from flows.checkin import view
from flows.checkin.digest import post_digest
from flows.checkin.timing import after_program_hours
from flows.common.availability import is_program_day, local_day, note_unanswered
from storage.models import CheckinRound, Cohort, Membership, Person
from storage.repositories.checkins import WEEKLY
from storage.repositories.participation import is_away
from storage.repositories.schedule import OneOff

OPEN_TASK = "checkin.open"
PROMPT_TASK = "checkin.prompt"
NUDGE_TASK = "checkin.nudge"
CLOSE_TASK = "checkin.close"
EARLIEST_ZONE = "Etc/GMT-14"
"""UTC+14 (POSIX signs are inverted): where the cadence time arrives first each week."""
_TINY = timedelta(microseconds=1)


class RoundTimer(TypedDict):
    """A check-in round's close."""

    round_id: int


class PromptTimer(TypedDict):
    """The people of a round whose local cadence time is one instant: prompt, or nudge."""

    round_id: int
    person_ids: list[int]


def flow_name(program_key: str) -> str:
    return f"checkin.{program_key}"


def cadence_of(config: AppConfig, cohort: Cohort, program: ProgramConfig) -> CadenceConfig:
    """The program's cadence with the cohort's own overrides from app.yaml."""
    for cohort_config in config.cohorts:
        if cohort_config.id == cohort.key:
            return cohort_config.effective_cadence(program)
    return program.cadence


def opener_rule(cadence: CadenceConfig, cohort: Cohort) -> dict[str, object] | None:
    """The cohort's weekly (or biweekly) round-opening rule, or None without check-ins."""
    if cadence.checkin is None:
        return None
    start = cohort.start_date or cohort.created_at.date()
    fields = cadence.checkin.cron_fields()
    return weekly(
        day_of_week=str(fields["day_of_week"]),
        hour=int(fields["hour"]),
        minute=int(fields["minute"]),
        every_weeks=cadence.every_weeks,
        start=start,
    )


def _zone(person: Person, cohort: Cohort) -> str:
    try:
        ZoneInfo(person.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return cohort.time_zone
    return person.time_zone


def local_prompt_time(when: WeeklyTime, time_zone: str, now: datetime) -> datetime:
    """The first cadence time at or after `now` in `time_zone` (as wall-clock there)."""
    fields = when.cron_fields()
    rule = weekly(
        day_of_week=str(fields["day_of_week"]),
        hour=int(fields["hour"]),
        minute=int(fields["minute"]),
    )
    found = next_after(rule, time_zone, now - _TINY)
    if found is None:  # a weekly rule always has a next time
        raise ValueError("no next cadence time")
    return found


def rotated(person_ids: list[int], number: int) -> list[int]:
    """Who goes first moves one place on every round."""
    ordered = sorted(person_ids)
    if not ordered:
        return []
    shift = (number - 1) % len(ordered)
    return ordered[shift:] + ordered[:shift]


async def plan(
    effects: Effects,
    *,
    cohort: Cohort,
    program: ProgramConfig,
    when: WeeklyTime | None,
) -> dict[int, datetime]:
    """When to prompt each participant: their local cadence time, or now when `when` is None.

    Nobody inactive, nobody away on their local day, and nobody on a holiday or a skipped
    weekend of theirs.
    """
    planned: dict[int, datetime] = {}
    for person, membership in await effects.uow.participation.participants(cohort.id):
        if membership.inactive_since is not None:
            continue
        zone = _zone(person, cohort)
        at = effects.now if when is None else local_prompt_time(when, zone, effects.now)
        day = local_day(at, zone)
        if is_program_day(program, day) and not is_away(person, day):
            planned[person.id] = at
    return planned


async def open_round(
    effects: Effects,
    *,
    engine: FlowEngine,
    cohort: Cohort,
    program: ProgramConfig,
    when: WeeklyTime | None,
) -> CheckinRound | None:
    """Open the cohort's next weekly round; None when nobody can be asked now."""
    planned = await plan(effects, cohort=cohort, program=program, when=when)
    if not planned:
        effects.log("checkin.round_skipped", cohort_id=cohort.id, data={"reason": "nobody"})
        return None
    settings = program.checkin
    uow = effects.uow
    number = await uow.checkins.next_number(cohort.id, WEEKLY)
    # The digest goes to the cohort's channel, so the cohort's days off decide its day.
    closes_at = after_program_hours(
        program, max(planned.values()), settings.close_after_hours, cohort.time_zone
    )
    round_ = await uow.checkins.open_round(
        cohort_id=cohort.id,
        kind=WEEKLY,
        number=number,
        order=rotated(list(planned), number),
        opened_at=effects.now,
        closes_at=closes_at,
    )
    if round_ is None:
        return None
    grouped = _by_instant(planned)
    # Instants come in time order, so those already due (a round opened by command, or
    # late) are the first: their people are asked at once, together.
    due_now = [p for at, person_ids in grouped.items() if at <= effects.now for p in person_ids]
    await prompt_many(effects, engine=engine, round_=round_, cohort=cohort, person_ids=due_now)
    people = await uow.people.by_ids(list(planned))
    nudges = _by_instant(
        {
            person_id: after_program_hours(
                program, at, settings.nudge_after_hours, _zone(people[person_id], cohort)
            )
            for person_id, at in planned.items()
            if person_id in people
        }
    )
    timers = _round_timers(round_, grouped, nudges, now=effects.now)
    await Timers(uow, effects.now).run_once_many(timers)
    effects.log(
        "checkin.round_opened",
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_.id}",
        data={"number": number, "people": len(planned)},
    )
    return round_


def _round_timers(
    round_: CheckinRound,
    prompts: dict[datetime, list[int]],
    nudges: dict[datetime, list[int]],
    *,
    now: datetime,
) -> list[OneOff]:
    """The round's prompt (for instants still ahead), nudge and close timers, in order.

    People prompted (or nudged) at the same instant share one timer: a cohort spread
    over four zones needs four of each, not one per person.
    """
    timers: list[OneOff] = []
    for task, kind, grouped in ((PROMPT_TASK, "prompt", prompts), (NUDGE_TASK, "nudge", nudges)):
        for at, person_ids in grouped.items():
            if task == PROMPT_TASK and at <= now:
                continue  # asked already, when the round opened
            key = f"checkin:{round_.id}:{kind}:{at.astimezone(UTC):%Y%m%dT%H%MZ}"
            payload = dict(PromptTimer(round_id=round_.id, person_ids=person_ids))
            timers.append(OneOff(key=key, task=task, due_at=at, payload=payload))
    close = dict(RoundTimer(round_id=round_.id))
    key = f"checkin:{round_.id}:close"
    timers.append(OneOff(key=key, task=CLOSE_TASK, due_at=round_.closes_at, payload=close))
    return timers


def _by_instant(planned: dict[int, datetime]) -> dict[datetime, list[int]]:
    grouped: dict[datetime, list[int]] = {}
    for person_id, at in sorted(planned.items(), key=lambda item: (item[1], item[0])):
        grouped.setdefault(at, []).append(person_id)
    return grouped


async def open_on_cadence(task: TaskContext, *, engine: FlowEngine, config: AppConfig) -> None:
    """The cohort's cadence time arrived somewhere: open this week's round."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
        return
    when = cadence_of(config, cohort, program).checkin
    if when is not None:
        await open_round(task.effects, engine=engine, cohort=cohort, program=program, when=when)


async def prompt_due(task: TaskContext, *, engine: FlowEngine) -> None:
    """These people's local cadence time arrived: ask each of them."""
    timer = task.payload_as(PromptTimer)
    found = await task.uow.checkins.round_and_cohort(timer["round_id"])
    if found is None:
        return
    round_, cohort = found
    await prompt_many(
        task.effects, engine=engine, round_=round_, cohort=cohort, person_ids=timer["person_ids"]
    )


async def nudge_due(task: TaskContext) -> None:
    """Some hours after their prompt: remind those who have not answered."""
    timer = task.payload_as(PromptTimer)
    for person_id in timer["person_ids"]:
        await nudge(task.effects, round_id=timer["round_id"], person_id=person_id)


async def close_due(task: TaskContext) -> None:
    await close_round(task.effects, round_id=task.payload_as(RoundTimer)["round_id"])


async def prompt_many(
    effects: Effects,
    *,
    engine: FlowEngine,
    round_: CheckinRound,
    cohort: Cohort,
    person_ids: Sequence[int],
) -> list[int]:
    """DM the round's check-in to these people of the cohort, in order; returns who was asked.

    Nobody who left, went away or inactive since the round opened, and nobody asked in
    this round before. The people with their memberships, their prompts, their runs and
    their DMs are each read or written in one statement, so a round for thousands keeps up.
    """
    uow = effects.uow
    if round_.digest_posted_at or not person_ids:
        return []
    members = await uow.participation.participants_among(cohort.id, person_ids)
    askable = [
        members[person_id][0]
        for person_id in dict.fromkeys(person_ids)
        if person_id in members and _still_askable(effects, *members[person_id], cohort)
    ]
    new = await uow.checkins.add_prompts(
        round_id=round_.id, person_ids=[person.id for person in askable], now=effects.now
    )
    asked = [person for person in askable if person.id in new]
    await engine.start_many(
        flow_name=flow_name(cohort.program),
        people=asked,
        cohort=cohort,
        effects=effects,
        data={"round_id": round_.id},
    )
    asked_ids = [person.id for person in asked]
    await effects.log_each(
        "checkin.prompted",
        person_ids=asked_ids,
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_.id}",
    )
    return asked_ids


def _still_askable(
    effects: Effects, person: Person, membership: Membership, cohort: Cohort
) -> bool:
    """Neither inactive nor away on their local day."""
    day = local_day(effects.now, _zone(person, cohort))
    return membership.inactive_since is None and not is_away(person, day)


async def nudge(effects: Effects, *, round_id: int, person_id: int) -> bool:
    """The one nudge: only to someone prompted, silent so far, and not away or inactive."""
    uow = effects.uow
    round_ = await uow.checkins.round(round_id)
    answer = await uow.checkins.answer(round_id, person_id, lock=True)
    if round_ is None or answer is None or round_.digest_posted_at is not None:
        return False
    if answer.answered_at is not None or answer.nudged_at is not None:
        return False
    person = await uow.people.get(person_id)
    cohort = await uow.cohorts.get(round_.cohort_id)
    membership = await uow.participation.membership(round_.cohort_id, person_id)
    if person is None or cohort is None or membership is None:
        return False
    zone = _zone(person, cohort)
    if membership.inactive_since is not None or is_away(person, local_day(effects.now, zone)):
        return False
    answer.nudged_at = effects.now
    closes = round_.closes_at.astimezone(ZoneInfo(zone))
    await effects.dm(person_id, view.nudge(cohort_name=cohort.name, closes=closes))
    effects.log(
        "checkin.nudged",
        person_id=person_id,
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_id}",
    )
    return True


async def close_round(effects: Effects, *, round_id: int) -> bool:
    """Count who missed the round, stop their open questions, and post the digest."""
    uow = effects.uow
    round_ = await uow.checkins.round(round_id, lock=True)
    if round_ is None or round_.digest_posted_at is not None:
        return False
    cohort = await uow.cohorts.get(round_.cohort_id)
    if cohort is None:
        return False
    for answer in await uow.checkins.answers(round_id):
        if answer.answered_at is not None:
            continue
        person = await uow.people.get(answer.person_id)
        if person is None:
            continue
        effects.log(
            "checkin.missed",
            person_id=person.id,
            cohort_id=cohort.id,
            object_ref=f"checkin_round:{round_id}",
        )
        await _stop_questions(effects, cohort=cohort, person=person, round_id=round_id)
        await note_unanswered(effects, cohort, person, "checkin")
    round_.digest_posted_at = effects.now
    await post_digest(effects, round_=round_, cohort=cohort)
    effects.log(
        "checkin.closed",
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_id}",
        data={"number": round_.number},
    )
    return True


async def _stop_questions(
    effects: Effects, *, cohort: Cohort, person: Person, round_id: int
) -> None:
    """A closed round's question no longer takes answers."""
    for run in await effects.uow.flow_runs.active(
        flow=flow_name(cohort.program), person_id=person.id, cohort_id=cohort.id
    ):
        if run.data.get("round_id") == round_id:
            await cancel_run(run, effects)
