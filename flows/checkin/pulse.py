"""Pulse check-ins: a 1-5 rating and an optional comment on days 3, 14 and 28 of the program.

Each pulse day (counted from the cohort's start date, moved to the next program day when
it falls on a holiday or a skipped weekend) is a one-off timer at the check-in time of day
in the cohort's time zone. Answers are rows of a `pulse` round and `pulse.answered` in the
activity log, with the rating. The prompts are rendered in `view`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, NotRequired
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict

from bot.config import AppConfig, ProgramConfig
from bot.model.messages import Message
from bot.runtime.answers import InvalidAnswer, Scale
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.engine import Ask, Do, Flow, FlowContext, FlowEngine, Tell
from bot.runtime.scheduler import TaskContext
from flows.checkin import view
from flows.checkin.rounds import cadence_of
from flows.common.availability import local_day, next_program_day, note_answered
from storage.repositories.checkins import PULSE

PULSE_TASK = "checkin.pulse"
SKIP_WORDS = {"skip", "no", "none", "-", "nothing", "n/a"}
MAX_COMMENT = 1000


def pulse_name(program_key: str) -> str:
    return f"pulse.{program_key}"


class OptionalComment:
    """Free text, where `skip` (or `no`, `-`) means no comment."""

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if not text:
            raise InvalidAnswer("the answer is empty; type `skip` if you have no comment")
        if len(text) > MAX_COMMENT:
            raise InvalidAnswer(f"please keep it under {MAX_COMMENT} characters")
        return "" if text.lower() in SKIP_WORDS else text

    def hint(self) -> str:
        return "Type a comment, or `skip`."


class PulseAnswers(TypedDict):
    """A pulse run's data: its round and day, then the rating and the comment."""

    round_id: int
    day: int
    rating: NotRequired[int]
    comment: NotRequired[str]


def _rating_prompt(ctx: FlowContext) -> Message:
    day = ctx.data_as(PulseAnswers)["day"]
    return view.pulse_rating_prompt(day=day, select_action=ctx.select_action)


def _comment_prompt(_ctx: FlowContext) -> Message:
    return view.pulse_comment_prompt()


async def _save(ctx: FlowContext) -> None:
    uow, answers = ctx.effects.uow, ctx.data_as(PulseAnswers)
    round_id = answers["round_id"]
    answer = await uow.checkins.answer(round_id, ctx.person.id, lock=True)
    if answer is None or answer.answered_at is not None:
        return
    answer.rating = answers["rating"]
    answer.comment = answers["comment"] or None
    answer.answered_at = ctx.effects.now
    cohort_id = ctx.cohort.id if ctx.cohort else None
    if cohort_id is not None:
        await note_answered(ctx.effects, cohort_id, ctx.person.id)
    ctx.effects.log(
        "pulse.answered",
        person_id=ctx.person.id,
        cohort_id=cohort_id,
        object_ref=f"checkin_round:{round_id}",
        data={
            "rating": answer.rating,
            "day": answers["day"],
            "commented": bool(answer.comment),
        },
    )


def _thanks(_ctx: FlowContext) -> Message:
    return view.pulse_thanks()


def pulse_flow(program_key: str, program: ProgramConfig) -> Flow:
    return Flow(
        name=pulse_name(program_key),
        steps=(
            Ask("rating", _rating_prompt, Scale(1, 5), store="rating"),
            Ask("comment", _comment_prompt, OptionalComment(), store="comment"),
            Do("save", _save),
            Tell("thanks", _thanks),
        ),
    )


def pulse_times(ctx: CohortSetupContext) -> list[tuple[int, int, datetime]]:
    """(number, day, when) of each pulse check-in of the cohort, in order."""
    start = ctx.cohort.start_date
    if start is None:
        return []
    cadence = cadence_of(ctx.config, ctx.cohort, ctx.program)
    at = cadence.checkin.time if cadence.checkin else time(9, 0)
    zone = ZoneInfo(ctx.cohort.time_zone)
    found = []
    for number, days in enumerate(ctx.program.checkin.pulse_days, 1):
        day = next_program_day(ctx.program, start + timedelta(days=days))
        found.append((number, days, datetime.combine(day, at, tzinfo=zone)))
    return found


class PulseTimer(TypedDict):
    """One pulse check-in of a cohort: its number and its day after the start."""

    cohort_id: int
    number: int
    day: int


async def install_pulses(ctx: CohortSetupContext) -> None:
    """One timer per pulse day still ahead (a pulse that has run is never set again)."""
    for number, days, when in pulse_times(ctx):
        if when <= ctx.now:
            continue
        await ctx.timers.run_once(
            key=f"pulse:{ctx.cohort.id}:{number}",
            task=PULSE_TASK,
            at=when,
            payload=PulseTimer(cohort_id=ctx.cohort.id, number=number, day=days),
        )


async def open_pulse(task: TaskContext, *, engine: FlowEngine, config: AppConfig) -> None:
    """Ask every promptable participant for the pulse rating."""
    uow, effects, timer = task.uow, task.effects, task.payload_as(PulseTimer)
    cohort = await uow.cohorts.get(timer["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
        return
    number, days = timer["number"], timer["day"]
    people = await uow.participation.promptable(cohort.id, local_day(effects.now, cohort.time_zone))
    round_ = await uow.checkins.open_round(
        cohort_id=cohort.id,
        kind=PULSE,
        number=number,
        order=[p.id for p in people],
        opened_at=effects.now,
        closes_at=effects.now + timedelta(hours=program.checkin.close_after_hours),
    )
    if round_ is None:
        return
    for person in people:
        await uow.checkins.add_prompt(round_id=round_.id, person_id=person.id, now=effects.now)
        data: dict[str, Any] = {"round_id": round_.id, "day": days}
        await engine.start(
            flow_name=pulse_name(cohort.program),
            person=person,
            cohort=cohort,
            effects=effects,
            data=data,
        )
        effects.log(
            "pulse.prompted",
            person_id=person.id,
            cohort_id=cohort.id,
            object_ref=f"checkin_round:{round_.id}",
            data={"day": days},
        )
