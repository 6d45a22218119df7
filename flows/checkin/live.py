"""Live check-in during a session: the bot calls on each present person in turn, in a thread.

The order is the running session's attendance (those who pressed "I'm here"), rotated
every round; without a running session there is nobody to call on. It runs on the flow
engine as the facilitator's run: call on the next person, wait for their turn to end,
move on. A turn ends when the person presses "Done", when the facilitator skips, or
when the turn's time is up; pause holds the turn and resume calls on the same person
with a fresh timer. The position (order, turn, paused) is the run's data, so a restart
carries on. The thread's messages are rendered in `view`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from typing_extensions import TypedDict

from bot.commands.router import ActionContext, CommandContext
from bot.config import ProgramConfig
from bot.runtime.effects import Effects
from bot.runtime.engine import Do, End, Flow, FlowContext, Goto, Wait, pause_run, remember
from flows.checkin import view
from flows.checkin.rounds import rotated
from flows.common.availability import note_answered
from storage.models import Cohort, FlowRun
from storage.repositories.checkins import LIVE, LIVE_FLOW

TURN = "turn"
"""The step that waits while someone has the floor."""


class LiveData(TypedDict):
    """A live check-in's position, kept as its run's data."""

    round_id: int
    order: list[int]
    turn: int
    paused: bool
    again: bool
    """The turn is called again after a pause: no new prompt is counted."""


def live_flow() -> Flow:
    """Call on each person in turn until everyone had theirs."""
    return Flow(
        name=LIVE_FLOW,
        steps=(
            Do("call", _call),
            Wait(TURN, timeout=_turn_length, on_timeout=_time_is_up),
            Do("next", _next_turn),
        ),
    )


def thread_key(round_id: int) -> str:
    return f"checkin:live:{round_id}"


def data_of(run: FlowRun) -> LiveData:
    return cast(LiveData, run.data)


async def live_command(ctx: CommandContext, *, cohort: Cohort, program: ProgramConfig) -> None:
    """`/cohort checkin live|skip|pause|resume`."""
    word = ctx.command.args[0]
    if word == "live":
        await _start(ctx, cohort=cohort, program=program)
        return
    uow = ctx.effects.uow
    run = await uow.checkins.live_run(cohort.id, lock=True)
    if run is None:
        await ctx.reply("No live check-in is running. Start one with `/cohort checkin live`.")
        return
    data = data_of(run)
    if word == "skip":
        ctx.effects.log("checkin.live_skipped", cohort_id=cohort.id, data=_turn_data(data))
        await ctx.reply("Skipped; moving on.")
        await ctx.engine.resume(run=run, effects=ctx.effects, step=TURN)
    elif word == "pause":
        if data["paused"]:
            await ctx.reply(
                "The live check-in is already paused. `/cohort checkin resume` goes on."
            )
            return
        remember(run, paused=True)
        await pause_run(run, ctx.effects)
        await ctx.effects.thread(thread_key(data["round_id"]), view.live_paused())
        await ctx.reply("Paused. `/cohort checkin resume` carries on with the same person.")
    else:
        if not data["paused"]:
            await ctx.reply("The live check-in isn't paused.")
            return
        remember(run, paused=False, again=True)
        await ctx.reply("Resumed.")
        await ctx.engine.goto(run=run, effects=ctx.effects, step="call")


async def _start(ctx: CommandContext, *, cohort: Cohort, program: ProgramConfig) -> None:
    uow, effects = ctx.effects.uow, ctx.effects
    if await uow.checkins.live_run(cohort.id) is not None:
        await ctx.reply("A live check-in is already running: `/cohort checkin skip|pause|resume`.")
        return
    present = await uow.checkins.present(cohort.id)
    if present is None:
        # Calling on everyone would call on people who are not in the room.
        await ctx.reply(
            f"No session of {cohort.name} is running, so nobody is marked present. Start one "
            "with `/cohort session start`; once people press *I'm here*, "
            "`/cohort checkin live` calls on them."
        )
        return
    participants = {p.id for p, _m in await uow.participation.participants(cohort.id)}
    present = [pid for pid in present if pid in participants]
    if not present:
        await ctx.reply(
            "There is nobody to call on yet: nobody has pressed *I'm here* on the agenda."
        )
        return
    number = await uow.checkins.next_number(cohort.id, LIVE)
    order = rotated(present, number)
    minutes = program.checkin.live_turn_minutes
    round_ = await uow.checkins.open_round(
        cohort_id=cohort.id,
        kind=LIVE,
        number=number,
        order=order,
        opened_at=effects.now,
        closes_at=effects.now + timedelta(minutes=minutes * len(order)),
    )
    if round_ is None:
        await ctx.reply("A live check-in was just started; try again in a moment.")
        return
    people = await uow.people.by_ids(order)
    names = ", ".join(people[pid].display_name for pid in order if pid in people)
    intro = view.live_intro(number=number, names=names, minutes=minutes)
    if not await effects.channel(cohort.id, intro, ref_key=thread_key(round_.id)):
        await ctx.reply("This cohort has no channel for me to run a live check-in in.")
        return
    effects.log(
        "checkin.live_started",
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_.id}",
        data={"people": len(order)},
    )
    await ctx.reply(f"Live check-in started with {len(order)} people.")
    start = LiveData(round_id=round_.id, order=order, turn=0, paused=False, again=False)
    await ctx.engine.start(
        flow_name=LIVE_FLOW, person=ctx.person, cohort=cohort, effects=effects, data=dict(start)
    )


def _turn_data(data: LiveData) -> dict[str, Any]:
    order, turn = data["order"], data["turn"]
    return {"turn": turn, "person_id": order[turn] if turn < len(order) else None}


def _program(ctx: FlowContext) -> ProgramConfig | None:
    return ctx.config.programs.get(ctx.cohort.program) if ctx.cohort else None


def _turn_length(ctx: FlowContext) -> timedelta | None:
    program = _program(ctx)
    return timedelta(minutes=program.checkin.live_turn_minutes) if program else None


async def _call(ctx: FlowContext) -> End | None:
    """Call on the person whose turn it is, or wrap up after the last one."""
    uow, effects, data = ctx.effects.uow, ctx.effects, data_of(ctx.run)
    order, turn, round_id = data["order"], data["turn"], data["round_id"]
    if turn >= len(order):
        await _finish(effects, ctx.run)
        return End()
    person = await uow.people.get(order[turn])
    name = person.display_name if person else "Next person"
    if not data["again"]:
        await uow.checkins.add_prompt(round_id=round_id, person_id=order[turn], now=effects.now)
    program = _program(ctx)
    minutes = program.checkin.live_turn_minutes if program else 0
    call = view.live_turn(name=name, minutes=minutes, run_id=ctx.run.id, turn=turn)
    await effects.thread(thread_key(round_id), call)
    return None


async def _time_is_up(ctx: FlowContext) -> None:
    ctx.effects.log(
        "checkin.live_timed_out", cohort_id=ctx.run.cohort_id, data=_turn_data(data_of(ctx.run))
    )
    await ctx.effects.thread(thread_key(data_of(ctx.run)["round_id"]), view.live_time_up())


async def _next_turn(ctx: FlowContext) -> Goto:
    ctx.remember(turn=data_of(ctx.run)["turn"] + 1, paused=False, again=False)
    return Goto("call")


async def _finish(effects: Effects, run: FlowRun) -> None:
    uow, data = effects.uow, data_of(run)
    round_ = await uow.checkins.round(data["round_id"])
    answers = await uow.checkins.answers(data["round_id"])
    shared = sum(1 for a in answers if a.answered_at is not None)
    if round_ is not None:
        round_.digest_posted_at = effects.now
    finished = view.live_finished(shared=shared, called=len(data["order"]))
    await effects.thread(thread_key(data["round_id"]), finished)
    effects.log(
        "checkin.live_finished",
        cohort_id=run.cohort_id,
        object_ref=f"checkin_round:{data['round_id']}",
        data={"shared": shared},
    )


async def turn_done(ctx: ActionContext) -> None:
    """The called person (or a facilitator) pressed Done: record it and call the next."""
    run_id, _, turn = ctx.value.partition(":")
    uow = ctx.effects.uow
    run = await uow.flow_runs.get(int(run_id), lock=True) if run_id.isdigit() else None
    if (
        run is None
        or run.flow != LIVE_FLOW
        or run.step != TURN
        or str(data_of(run)["turn"]) != turn
    ):
        await ctx.reply("That turn is over already.")
        return
    data = data_of(run)
    person_id = data["order"][int(turn)]
    roles = await uow.cohorts.roles(cohort_id=run.cohort_id or 0, person_id=ctx.person.id)
    if ctx.person.id != person_id and not roles & {"facilitator", "owner"}:
        await ctx.reply("It isn't your turn yet; I'll call on you.")
        return
    answer = await uow.checkins.answer(data["round_id"], person_id, lock=True)
    if answer is None:
        return
    answer.answered_at = ctx.effects.now
    if run.cohort_id is not None:
        await note_answered(ctx.effects, run.cohort_id, person_id)
    ctx.effects.log(
        "checkin.live_answered",
        person_id=person_id,
        cohort_id=run.cohort_id,
        object_ref=f"checkin_round:{data['round_id']}",
    )
    await ctx.engine.resume(run=run, effects=ctx.effects, step=TURN)
