"""The finale by DM: the post-assessment, then the pilot evaluation.

The post-assessment asks onboarding's self-rating again (same skills, wording and scale)
and is logged as `assessment.post`; answering it completes the program
(`program.completed`). The evaluation follows (`evaluation.answered`). A participant who
stops half-way gets one reminder in all, not one per question. What the intro, the
step between and the thanks say is in `flows.finale.view`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.config import ProgramConfig
from bot.model.messages import Message
from bot.runtime.engine import Do, Flow, FlowContext, Tell
from flows.finale import view
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
    return view.finale_intro(ctx.cohort.name if ctx.cohort else None, ctx.person.display_name)


def _completer(program: ProgramConfig) -> Callable[[FlowContext], Awaitable[None]]:
    async def complete(ctx: FlowContext) -> None:
        """Log the post-assessment; answering it is what completes the program."""
        cohort_id = ctx.cohort.id if ctx.cohort else None
        ratings = assessment_ratings(ctx, program, phase=POST)
        ctx.effects.log(ASSESSED, person_id=ctx.person.id, cohort_id=cohort_id, data=ratings)
        ctx.effects.log(COMPLETED, person_id=ctx.person.id, cohort_id=cohort_id)

    return complete


def _between(_ctx: FlowContext) -> Message:
    return view.between()


def _thanks(_ctx: FlowContext) -> Message:
    return view.survey_thanks()


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
