"""The finale by DM: the post-assessment, then the pilot evaluation.

The post-assessment asks onboarding's self-rating again (same skills, wording and scale)
and is logged as `assessment.post`; answering it completes the program
(`program.completed`). The evaluation follows (`evaluation.answered`). A participant who
stops half-way gets one reminder in all, not one per question.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.config import ProgramConfig
from bot.model.messages import Context, Message, Section
from bot.runtime.engine import Do, Flow, FlowContext, Tell
from flows.finale.evaluation import evaluation_steps, log_evaluation
from flows.onboarding.survey import assessment_ratings, assessment_steps

POST = "post"
ASSESSED = "assessment.post"
COMPLETED = "program.completed"


def finale_name(program_key: str) -> str:
    return f"finale.{program_key}"


def _remind_once(program: ProgramConfig) -> Callable[[FlowContext], timedelta | None]:
    """A reminder due a fixed time after the finale started, whichever question is open then.

    Every step asks for the same moment, so a run gets at most one reminder; once that
    moment has passed, later questions are not reminded again.
    """

    def remind_after(ctx: FlowContext) -> timedelta | None:
        due = ctx.run.created_at + timedelta(hours=program.finale.reminder_hours)
        left = due - ctx.effects.now
        return left if left > timedelta(0) else None

    return remind_after


def _intro(ctx: FlowContext) -> Message:
    name = ctx.cohort.name if ctx.cohort else "the program"
    first = ctx.person.display_name.split(" ")[0] or "there"
    text = (
        f"{name} is coming to an end. Thank you for taking part, {first}! "
        "Two short parts, about three minutes: rate yourself again on the skills you "
        "rated at the start, then three questions about the program."
    )
    return Message(
        text=text,
        blocks=[
            Section(text=f"*{name} is coming to an end.* Thank you for taking part, {first}!"),
            Context(
                text="Two short parts, about three minutes: rate yourself again on the "
                "skills you rated at the start, then three questions about the program."
            ),
        ],
    )


def _completer(program: ProgramConfig) -> Callable[[FlowContext], Awaitable[None]]:
    async def complete(ctx: FlowContext) -> None:
        """Log the post-assessment; answering it is what completes the program."""
        cohort_id = ctx.cohort.id if ctx.cohort else None
        ratings = assessment_ratings(ctx, program, phase=POST)
        ctx.effects.log(ASSESSED, person_id=ctx.person.id, cohort_id=cohort_id, data=ratings)
        ctx.effects.log(COMPLETED, person_id=ctx.person.id, cohort_id=cohort_id)

    return complete


def _between(_ctx: FlowContext) -> Message:
    return Message(text="Thanks! Now three quick questions about the program itself.")


def _thanks(ctx: FlowContext) -> Message:
    text = (
        "Thank you! That's everything. Watch the cohort channel for the celebration "
        "of what you all achieved."
    )
    return Message(text=text, blocks=[Section(text=text)])


def finale_flow(program_key: str, program: ProgramConfig) -> Flow:
    remind = _remind_once(program)
    return Flow(
        name=finale_name(program_key),
        steps=(
            Tell("intro", _intro),
            *assessment_steps(program, phase=POST, remind_after=remind, give_up_after=_never),
            Do("complete", _completer(program)),
            Tell("between", _between),
            *evaluation_steps(remind_after=remind),
            Do("evaluated", log_evaluation),
            Tell("thanks", _thanks),
        ),
    )


def _never(_ctx: FlowContext) -> timedelta | None:
    return None
