"""The check-in DM: one success and one challenge, as a form or as two typed answers.

The first question carries a form with both fields (a Slack modal, a Teams card form,
an inline form in the playground); typing the answers one after the other works too.
Either way the answer is saved once, and the thank-you offers "I'd like help with this".
The questions and the thank-you are rendered in `view`.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from bot.commands.router import ActionContext, FormContext
from bot.config import ProgramConfig
from bot.model.messages import Message
from bot.runtime.answers import FreeText
from bot.runtime.effects import Effects
from bot.runtime.engine import Ask, Do, Flow, FlowContext
from flows.checkin import view
from flows.checkin.digest import refresh_digest
from flows.checkin.rounds import flow_name
from flows.common.availability import note_answered
from storage.models import Person
from storage.statuses import RunStatus

MAX_ANSWER = 1000
_TEXT = FreeText(max_len=MAX_ANSWER)


class CheckinAnswers(TypedDict):
    """A check-in run's data once both answers are in."""

    round_id: int
    success: str
    challenge: str


def _cohort_name(ctx: FlowContext) -> str:
    return ctx.cohort.name if ctx.cohort else "your cohort"


def _first_question(program: ProgramConfig) -> Any:
    def render(ctx: FlowContext) -> Message:
        return view.first_question(
            program.checkin,
            display_name=ctx.person.display_name,
            cohort_name=_cohort_name(ctx),
            run_id=ctx.run.id,
        )

    return render


def _second_question(program: ProgramConfig) -> Any:
    def render(_ctx: FlowContext) -> Message:
        return view.second_question(program.checkin)

    return render


async def _save_typed(ctx: FlowContext) -> None:
    answers = ctx.data_as(CheckinAnswers)
    await record_answer(
        ctx.effects,
        person=ctx.person,
        round_id=answers["round_id"],
        success=answers["success"],
        challenge=answers["challenge"],
    )


def checkin_flow(program_key: str, program: ProgramConfig) -> Flow:
    return Flow(
        name=flow_name(program_key),
        steps=(
            Ask("success", _first_question(program), _TEXT, store="success"),
            Ask("challenge", _second_question(program), _TEXT, store="challenge"),
            Do("save", _save_typed),
        ),
    )


async def record_answer(
    effects: Effects, *, person: Person, round_id: int, success: str, challenge: str
) -> bool:
    """Save the person's answer to an open round, thank them and offer help; once only."""
    uow = effects.uow
    round_ = await uow.checkins.round(round_id)
    answer = await uow.checkins.answer(round_id, person.id, lock=True)
    if round_ is None or answer is None or answer.answered_at is not None:
        return False
    if round_.digest_posted_at is not None:
        await effects.dm(person.id, view.round_closed())
        return False
    answer.success, answer.challenge, answer.answered_at = success, challenge, effects.now
    await note_answered(effects, round_.cohort_id, person.id)
    effects.log(
        "checkin.answered",
        person_id=person.id,
        cohort_id=round_.cohort_id,
        object_ref=f"checkin_round:{round_id}",
        data={"number": round_.number, "late_after_nudge": answer.nudged_at is not None},
    )
    await effects.dm(person.id, view.thanks(challenge=challenge, answer_id=answer.id))
    return True


async def submit_form(ctx: FormContext) -> None:
    """Both answers from the form; an empty or overlong one is asked again, nothing saved."""
    uow = ctx.effects.uow
    run_id = ctx.form_id.partition(":")[2]
    run = await uow.flow_runs.get(int(run_id), lock=True) if run_id.isdigit() else None
    if run is None or run.person_id != ctx.person.id or not run.flow.startswith("checkin."):
        await ctx.reply("That form isn't yours.")
        return
    if run.status != RunStatus.WAITING or run.step != "success":
        await ctx.reply("That check-in was already answered or has closed.")
        return
    problem = await ctx.engine.fill(
        run=run,
        person=ctx.person,
        values={
            "success": ctx.values.get("success", ""),
            "challenge": ctx.values.get("challenge", ""),
        },
        effects=ctx.effects,
    )
    if problem is not None:
        await ctx.reply(
            f"Sorry, {problem}: please share both a success and a challenge. "
            "Your check-in is still open; fill in the form again or reply here."
        )


async def want_help(ctx: ActionContext) -> None:
    """The asker's "I'd like help with this": flags the challenge in the digest."""
    uow = ctx.effects.uow
    answer = (
        await uow.checkins.answer_by_id(int(ctx.value), lock=True) if ctx.value.isdigit() else None
    )
    if answer is None or answer.person_id != ctx.person.id:
        await ctx.reply("That button isn't for you.")
        return
    round_ = await uow.checkins.round(answer.round_id)
    if answer.wants_help:
        await ctx.reply("You've already asked for help with this challenge.")
        return
    answer.wants_help = True
    ctx.effects.log(
        "checkin.help_requested",
        person_id=ctx.person.id,
        cohort_id=round_.cohort_id if round_ else None,
        object_ref=f"checkin_answer:{answer.id}",
    )
    await ctx.reply(
        "Noted! Your challenge will show an \u201cI can help\u201d button in the digest, "
        "and I'll tell you who picks it up."
    )
    if round_ is not None:
        await refresh_digest(ctx.effects, round_=round_)
