"""Live check-in during a session: the bot calls on each present person in turn, in a thread.

The order is the session's attendance (else the promptable participants), rotated every
round. Each turn ends when the person presses "Done", when the facilitator skips, or when
the turn's timer runs out; pause holds the turn and resume gives it a fresh timer. The
position (order, turn, paused) is a flow run's data, so a restart carries on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.commands.router import ActionContext, CommandContext
from bot.config import ProgramConfig
from bot.model.messages import Button, Buttons, Message, Section
from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, Timers
from flows.checkin.rounds import rotated
from flows.common.availability import local_day, note_answered
from storage.models import Cohort, FlowRun
from storage.repositories.checkins import LIVE, LIVE_FLOW

TURN_TASK = "checkin.live_turn"
DONE_ACTION = "checkin.live_done"
"""The called person is done; the value is `<run id>:<turn>`."""


def thread_key(round_id: int) -> str:
    return f"checkin:live:{round_id}"


def _say(text: str, *buttons: Button) -> Message:
    blocks: list[Any] = [Section(text=text)]
    if buttons:
        blocks.append(Buttons(buttons=list(buttons)))
    return Message(text=text, blocks=blocks)


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
    if word == "skip":
        ctx.effects.log("checkin.live_skipped", cohort_id=cohort.id, data=_turn_data(run))
        await ctx.reply("Skipped; moving on.")
        await _advance(ctx.effects, run, program=program)
    elif word == "pause":
        if run.data.get("paused"):
            await ctx.reply(
                "The live check-in is already paused. `/cohort checkin resume` goes on."
            )
            return
        run.data = {**run.data, "paused": True}
        await Timers(uow, ctx.effects.now).cancel_prefix(f"{thread_key(_round_id(run))}:turn:")
        await ctx.effects.thread(thread_key(_round_id(run)), _say("Paused for a moment."))
        await ctx.reply("Paused. `/cohort checkin resume` carries on with the same person.")
    else:
        if not run.data.get("paused"):
            await ctx.reply("The live check-in isn't paused.")
            return
        run.data = {**run.data, "paused": False}
        await ctx.reply("Resumed.")
        await _call(ctx.effects, run, program=program, again=True)


async def _start(ctx: CommandContext, *, cohort: Cohort, program: ProgramConfig) -> None:
    uow, effects = ctx.effects.uow, ctx.effects
    if await uow.checkins.live_run(cohort.id) is not None:
        await ctx.reply("A live check-in is already running: `/cohort checkin skip|pause|resume`.")
        return
    present = await uow.checkins.present(cohort.id)
    if present is None:
        day = local_day(effects.now, cohort.time_zone)
        present = [p.id for p in await uow.participation.promptable(cohort.id, day)]
    else:
        participants = {p.id for p, _m in await uow.participation.participants(cohort.id)}
        present = [pid for pid in present if pid in participants]
    if not present:
        await ctx.reply("There is nobody to call on yet: nobody is marked present.")
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
    intro = (
        f"*Live check-in, round {number}.* I'll call on each of you in turn: {names}. "
        f"When it's your turn, share one success and one challenge in this thread, then "
        f"press Done. You have {minutes} minutes each."
    )
    if not await effects.channel(cohort.id, _say(intro), ref_key=thread_key(round_.id)):
        await ctx.reply("This cohort has no channel for me to run a live check-in in.")
        return
    run = await uow.flow_runs.create(
        flow=LIVE_FLOW,
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        step="turn",
        data={"round_id": round_.id, "order": order, "turn": 0, "paused": False},
        now=effects.now,
    )
    effects.log(
        "checkin.live_started",
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_.id}",
        data={"people": len(order)},
    )
    await ctx.reply(f"Live check-in started with {len(order)} people.")
    await _call(effects, run, program=program)


def _round_id(run: FlowRun) -> int:
    return int(run.data["round_id"])


def _turn_data(run: FlowRun) -> dict[str, Any]:
    order, turn = run.data["order"], int(run.data["turn"])
    return {"turn": turn, "person_id": order[turn] if turn < len(order) else None}


async def _call(
    effects: Effects, run: FlowRun, *, program: ProgramConfig, again: bool = False
) -> None:
    """Call on the person whose turn it is (or wrap up after the last one)."""
    uow = effects.uow
    order, turn = list(run.data["order"]), int(run.data["turn"])
    round_id = _round_id(run)
    if turn >= len(order):
        await _finish(effects, run)
        return
    person = await uow.people.get(order[turn])
    name = person.display_name if person else "Next person"
    if not again:
        await uow.checkins.add_prompt(round_id=round_id, person_id=order[turn], now=effects.now)
    minutes = program.checkin.live_turn_minutes
    text = f"*{name}*, your turn: one success and one challenge, please ({minutes} min)."
    done = Button(label="Done", action_id=DONE_ACTION, value=f"{run.id}:{turn}", style="primary")
    await effects.thread(thread_key(round_id), _say(text, done))
    await Timers(uow, effects.now).run_once(
        key=f"{thread_key(round_id)}:turn:{turn}",
        task=TURN_TASK,
        at=effects.now + timedelta(minutes=minutes),
        payload={"run_id": run.id, "turn": turn},
    )


async def _advance(effects: Effects, run: FlowRun, *, program: ProgramConfig) -> None:
    await Timers(effects.uow, effects.now).cancel_prefix(f"{thread_key(_round_id(run))}:turn:")
    run.data = {**run.data, "turn": int(run.data["turn"]) + 1, "paused": False}
    run.updated_at = effects.now
    await _call(effects, run, program=program)


async def _finish(effects: Effects, run: FlowRun) -> None:
    uow = effects.uow
    round_ = await uow.checkins.round(_round_id(run))
    answers = await uow.checkins.answers(_round_id(run))
    shared = sum(1 for a in answers if a.answered_at is not None)
    run.status = "done"
    if round_ is not None:
        round_.digest_posted_at = effects.now
    text = f"That's everyone: {shared} of {len(run.data['order'])} shared. Thank you all!"
    await effects.thread(thread_key(_round_id(run)), _say(text))
    effects.log(
        "checkin.live_finished",
        cohort_id=run.cohort_id,
        object_ref=f"checkin_round:{_round_id(run)}",
        data={"shared": shared},
    )


async def _program_of(
    effects: Effects, run: FlowRun, programs: dict[str, ProgramConfig]
) -> ProgramConfig | None:
    cohort = await effects.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
    return programs.get(cohort.program) if cohort else None


def turn_timeout_handler(programs: dict[str, ProgramConfig]) -> Any:
    async def turn_timeout(task: TaskContext) -> None:
        """The turn's time is up: move on, unless it ended or was paused meanwhile."""
        run = await task.uow.flow_runs.get(int(task.payload["run_id"]), lock=True)
        if run is None or run.status != "active" or run.data.get("paused"):
            return
        if int(run.data["turn"]) != int(task.payload["turn"]):
            return
        program = await _program_of(task.effects, run, programs)
        if program is None:
            return
        task.effects.log("checkin.live_timed_out", cohort_id=run.cohort_id, data=_turn_data(run))
        await task.effects.thread(thread_key(_round_id(run)), _say("Time's up; let's move on."))
        await _advance(task.effects, run, program=program)

    return turn_timeout


def turn_done_handler(programs: dict[str, ProgramConfig]) -> Any:
    async def turn_done(ctx: ActionContext) -> None:
        """The called person (or a facilitator) pressed Done: record it and call the next."""
        run_id, _, turn = ctx.value.partition(":")
        uow = ctx.effects.uow
        run = await uow.flow_runs.get(int(run_id), lock=True) if run_id.isdigit() else None
        if run is None or run.status != "active" or str(run.data["turn"]) != turn:
            await ctx.reply("That turn is over already.")
            return
        person_id = int(run.data["order"][int(turn)])
        roles = await uow.cohorts.roles(cohort_id=run.cohort_id or 0, person_id=ctx.person.id)
        if ctx.person.id != person_id and not roles & {"facilitator", "owner"}:
            await ctx.reply("It isn't your turn yet; I'll call on you.")
            return
        program = await _program_of(ctx.effects, run, programs)
        answer = await uow.checkins.answer(_round_id(run), person_id, lock=True)
        if program is None or answer is None:
            return
        answer.answered_at = ctx.effects.now
        if run.cohort_id is not None:
            await note_answered(ctx.effects, run.cohort_id, person_id)
        ctx.effects.log(
            "checkin.live_answered",
            person_id=person_id,
            cohort_id=run.cohort_id,
            object_ref=f"checkin_round:{_round_id(run)}",
        )
        await _advance(ctx.effects, run, program=program)

    return turn_done
