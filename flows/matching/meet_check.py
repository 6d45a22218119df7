"""The "did you meet?" check a few days after a group is formed.

Each peer of a group is asked by DM (Yes / Not yet / No). The answer is stored in the
group's `met` record and logged as `pairing.met`, which the meet-rate KPI counts. An
answer counts as an answered prompt; no answer by the program's give-up time counts
as a missed one (three in a row make someone inactive, see flows.common.availability).
The question stays here (its buttons are bound to the run); the thanks after it is
`flows.matching.view.meet_thanks`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NotRequired
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict

from bot.config import AppConfig, ProgramConfig
from bot.model.messages import Context, Message, Section
from bot.model.roles import Role
from bot.runtime.answers import Choice
from bot.runtime.engine import Ask, Do, Flow, FlowContext, FlowEngine, Tell, answer_buttons
from bot.runtime.scheduler import TaskContext, Timers
from flows.common.availability import local_day, next_program_day, note_answered, note_unanswered
from flows.matching import view
from storage.models import Cohort, MatchGroup
from storage.repositories.participation import is_away

MEET_FLOW = "matching.meet_check"
MEET_CHECK_TASK = "matching.meet_check"
ANSWERS = (("Yes", "yes"), ("Not yet", "not_yet"), ("No", "no"))


def meet_check_key(group_id: int, person_id: int) -> str:
    return f"matching:group:{group_id}:meet:{person_id}"


def meet_check_at(program: ProgramConfig, cohort: Cohort, formed: datetime) -> datetime:
    """`meet_check_days` after the intro, moved on to a program day (not a holiday)."""
    zone = ZoneInfo(cohort.time_zone)
    due = formed + timedelta(days=program.matching.meet_check_days)
    day = local_day(due, cohort.time_zone)
    moved: date = next_program_day(program, day)
    if moved == day:
        return due
    return datetime.combine(moved, program.matching.pair_on.time, tzinfo=zone)


class MeetCheckTimer(TypedDict):
    """One peer's "did you meet?" for one group."""

    group_id: int
    person_id: int


async def schedule_meet_checks(
    *, timers: Timers, program: ProgramConfig, cohort: Cohort, group: MatchGroup
) -> None:
    """One "did you meet?" per peer of the group (mentors are not asked)."""
    at = meet_check_at(program, cohort, group.created_at)
    for person_id in group.members:
        await timers.run_once(
            key=meet_check_key(group.id, person_id),
            task=MEET_CHECK_TASK,
            at=at,
            payload=MeetCheckTimer(group_id=group.id, person_id=person_id),
        )


class MeetCheckRun(TypedDict):
    """A "did you meet?" run: the group, the others' names, then the answer."""

    group_id: int
    others: list[str]
    met: NotRequired[str]


def _prompt(ctx: FlowContext) -> Message:
    others = ", ".join(ctx.data_as(MeetCheckRun)["others"]) or "your group"
    text = f"Did you meet with {others} this cycle?"
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            answer_buttons(ctx, list(ANSWERS)),
            Context(text="Your answer helps the facilitators see how pairing works."),
        ],
    )


def _give_up(ctx: FlowContext) -> timedelta:
    program = ctx.config.programs.get(ctx.cohort.program if ctx.cohort else "")
    hours = program.matching.meet_check_give_up_hours if program else 48
    return timedelta(hours=hours)


async def _record(ctx: FlowContext) -> None:
    run = ctx.data_as(MeetCheckRun)
    answer, group_id = run["met"], run["group_id"]
    met = answer == "yes"
    group = await ctx.effects.uow.matching.record_met(group_id, ctx.person.id, met=met)
    if ctx.cohort is None or group is None:
        return
    ctx.effects.log(
        "pairing.met",
        person_id=ctx.person.id,
        cohort_id=ctx.cohort.id,
        object_ref=f"match_group:{group_id}",
        data={"met": met, "answer": answer, "cycle": group.cycle},
    )
    await note_answered(ctx.effects, ctx.cohort.id, ctx.person.id)


def _thanks(ctx: FlowContext) -> Message:
    return view.meet_thanks(ctx.data.get("met"))


async def _missed(ctx: FlowContext) -> None:
    if ctx.cohort is not None:
        await note_unanswered(ctx.effects, ctx.cohort, ctx.person, "pairing.meet_check")


def meet_check_flow() -> Flow:
    return Flow(
        name=MEET_FLOW,
        steps=(
            Ask(
                "met",
                _prompt,
                Choice(tuple(value for _label, value in ANSWERS)),
                store="met",
                give_up_after=_give_up,
            ),
            Do("record", _record),
            Tell("thanks", _thanks),
        ),
        on_give_up=_missed,
    )


async def ask_if_met(task: TaskContext, *, engine: FlowEngine, config: AppConfig) -> None:
    """The scheduled check: start the question for one peer, unless it no longer applies."""
    uow, timer = task.uow, task.payload_as(MeetCheckTimer)
    group = await uow.matching.get(timer["group_id"])
    person = await uow.people.get(timer["person_id"])
    if group is None or person is None or str(person.id) in group.met:
        return
    cohort = await uow.cohorts.get(group.cohort_id)
    if cohort is None or not cohort.is_active or cohort.program not in config.programs:
        return
    roles = await uow.cohorts.roles(cohort_id=cohort.id, person_id=person.id)
    if Role.PARTICIPANT not in roles or is_away(person, local_day(task.now, person.time_zone)):
        return  # left the cohort, or on time off: no prompts then
    names = await uow.people.by_ids([m for m in group.members if m != person.id])
    others = [names[m].display_name for m in group.members if m in names]
    await engine.start(
        flow_name=MEET_FLOW,
        person=person,
        cohort=cohort,
        effects=task.effects,
        data={"group_id": group.id, "others": others},
    )
    task.effects.log(
        "pairing.meet_asked",
        person_id=person.id,
        cohort_id=cohort.id,
        object_ref=f"match_group:{group.id}",
    )
