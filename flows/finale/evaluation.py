"""The pilot evaluation: how valuable it was (1-5), would you recommend it (0-10), what to change.

Asked by DM at the end of the program as part of the finale; the answers are logged as
`evaluation.answered` with data {"value": n, "recommend": n, "change": text}. The
recommendation is the 0-10 question behind a net promoter score.

The two rating questions stay here (their rating and buttons are bound to the run); the
free-text one's wording is `flows.finale.view.change_prompt`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from typing_extensions import TypedDict

from bot.model.messages import Buttons, Context, Message, Rating, Section
from bot.runtime.answers import Scale
from bot.runtime.engine import Ask, FlowContext
from flows.checkin.pulse import OptionalComment
from flows.finale import view

VALUE_SCALE = Scale(1, 5)
RECOMMEND_SCALE = Scale(0, 10)
EVALUATED = "evaluation.answered"


def _value_prompt(ctx: FlowContext) -> Message:
    name = ctx.cohort.name if ctx.cohort else "the program"
    text = f"How valuable was {name} for you? (1 = not at all, 5 = very)"
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Rating(
                label="How valuable was it?",
                action_id=ctx.select_action,
                low_label="not at all",
                high_label="very",
            ),
        ],
    )


def _recommend_prompt(ctx: FlowContext) -> Message:
    text = (
        "How likely are you to recommend this program to a colleague? "
        "(0 = not at all likely, 10 = extremely likely)"
    )
    low, high = RECOMMEND_SCALE.low, RECOMMEND_SCALE.high
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            # No button stands out: a highlighted one would nudge the answer.
            Buttons(buttons=[ctx.answer_button(str(n), str(n)) for n in range(low, high + 1)]),
            Context(text=RECOMMEND_SCALE.hint()),
        ],
    )


def _change_prompt(_ctx: FlowContext) -> Message:
    return view.change_prompt()


FollowUpAfter = Callable[[FlowContext], timedelta | None]


def evaluation_steps(*, remind_after: FollowUpAfter) -> list[Ask]:
    """The three evaluation questions, stored as `value`, `recommend` and `change`."""
    return [
        Ask("value", _value_prompt, VALUE_SCALE, store="value", remind_after=remind_after),
        Ask(
            "recommend",
            _recommend_prompt,
            RECOMMEND_SCALE,
            store="recommend",
            remind_after=remind_after,
        ),
        Ask("change", _change_prompt, OptionalComment(), store="change", remind_after=remind_after),
    ]


class Evaluation(TypedDict):
    """The evaluation's answers, as its steps store them."""

    value: int
    recommend: int
    change: str


async def log_evaluation(ctx: FlowContext) -> None:
    """Log the evaluation answers of this run."""
    ctx.effects.log(
        EVALUATED,
        person_id=ctx.person.id,
        cohort_id=ctx.cohort.id if ctx.cohort else None,
        object_ref=f"run:{ctx.run.id}",
        data=dict(ctx.data_as(Evaluation)),
    )
