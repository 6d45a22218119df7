"""Onboarding: welcome, the profile survey, a self-assessment, consent, and follow-ups.

Consent is to share an end-of-program summary with one's manager; only those who say
yes are then asked who their manager is (`flows.onboarding.manager_contact`).

Built from the program template in app.yaml: its questions, its target skills (rated
1-5 before and after the program) and its onboarding timings. `/cohort profile` asks
the same questions again one at a time (`flows.onboarding.profile`).

This module holds the flows and what they do; what the welcome, the summary and the
follow-ups say is in `flows.onboarding.view`. The question prompts stay here: their
answer buttons, selects and ratings are bound to the run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from typing_extensions import TypedDict

from bot.config import AppConfig, ProgramConfig, Question
from bot.model.messages import Block, Context, Message, Option, Rating, Section, Select
from bot.model.roles import Role
from bot.runtime.answers import AnswerKind, Choice, Choices, FreeText, Scale, TimeZone
from bot.runtime.engine import Ask, Do, Flow, FlowContext, Tell, answer_buttons
from bot.runtime.scheduler import TaskContext
from flows.common.availability import tell_role
from flows.onboarding import view
from flows.onboarding.manager_contact import (
    ManagerContact,
    contact_from,
    manager_prompt,
    skip_unless_consented,
)

FOLLOW_UP_TASK = "onboarding.follow_up"
CONSENT_YES = "Yes, share my summary with my manager"
CONSENT_NO = "No, keep it within the cohort"


def onboarding_name(program_key: str) -> str:
    return f"onboarding.{program_key}"


def profile_name(program_key: str) -> str:
    return f"profile.{program_key}"


def _program(ctx: FlowContext) -> ProgramConfig:
    if ctx.cohort is None or ctx.cohort.program not in ctx.config.programs:
        raise LookupError("onboarding needs a cohort with a known program")
    return ctx.config.programs[ctx.cohort.program]


def _welcome(ctx: FlowContext) -> Message:
    cohort_name = ctx.cohort.name if ctx.cohort else None
    return view.welcome(_program(ctx), cohort_name, ctx.person.display_name)


def _choices(question: Question, program: ProgramConfig) -> tuple[str, ...]:
    return tuple(program.skills if question.choices_from == "skills" else question.choices)


def answer_kind(question: Question, program: ProgramConfig) -> AnswerKind:
    if question.kind == "time_zone":
        return TimeZone()
    if question.kind == "choice":
        return Choice(_choices(question, program))
    if question.kind == "multi_choice":
        return Choices(_choices(question, program))
    if question.kind == "rating":
        return Scale(1, program.onboarding.assessment_scale_max)
    return FreeText(max_len=500)


def question_prompt(question: Question, program: ProgramConfig) -> Any:
    def render(ctx: FlowContext) -> Message:
        blocks: list[Block] = [Section(text=question.text)]
        choices = _choices(question, program)
        text = question.text
        if question.kind == "time_zone":
            text = (
                f"Your time zone is set to *{ctx.person.time_zone}*. Reminders and check-ins "
                "follow it. Is that right? If not, type yours (for example Europe/Berlin)."
            )
            blocks = [
                Section(text=text),
                answer_buttons(ctx, [(f"Yes, {ctx.person.time_zone}", ctx.person.time_zone)]),
            ]
        elif question.kind == "choice":
            blocks.append(answer_buttons(ctx, [(c, c) for c in choices]))
        elif question.kind == "multi_choice":
            blocks.append(
                Select(
                    label="Choose one or more",
                    action_id=ctx.select_action,
                    options=[Option(label=c, value=c) for c in choices],
                    multi=True,
                )
            )
            blocks.append(Context(text=Choices(choices).hint()))
        elif question.kind == "rating":
            blocks.append(Rating(label=question.text, action_id=ctx.select_action))
        else:
            blocks.append(Context(text="Type your answer here."))
        return Message(text=text, blocks=blocks)

    return render


def _reminder(ctx: FlowContext) -> timedelta:
    return timedelta(hours=_program(ctx).onboarding.reminder_hours)


def _give_up(ctx: FlowContext) -> timedelta:
    return timedelta(hours=_program(ctx).onboarding.give_up_hours)


def _survey(program: ProgramConfig) -> list[Ask]:
    """The questions, the time zone first: every reminder after it depends on it."""
    questions = sorted(program.onboarding.questions, key=lambda q: q.kind != "time_zone")
    return [
        Ask(
            question.id,
            question_prompt(question, program),
            answer_kind(question, program),
            store=question.id,
            remind_after=_reminder,
            give_up_after=_give_up,
            # The profile keeps what was answered; a skipped question keeps its old answer.
            skippable=True,
        )
        for question in questions
    ]


def _rating_prompt(skill: str, scale: int) -> Any:
    def render(ctx: FlowContext) -> Message:
        text = (
            f"How would you rate yourself today in *{skill}*? (1 = just starting, {scale} = expert)"
        )
        return Message(
            text=text,
            blocks=[
                Section(text=text),
                Rating(
                    label=skill,
                    action_id=ctx.select_action,
                    low_label="just starting",
                    high_label="expert",
                    scale=scale,
                ),
            ],
        )

    return render


FollowUpAfter = Callable[[FlowContext], timedelta | None]


def assessment_steps(
    program: ProgramConfig,
    *,
    phase: str,
    remind_after: FollowUpAfter = _reminder,
    give_up_after: FollowUpAfter = _give_up,
) -> list[Ask]:
    """The self-assessment: one 1..scale rating per target skill, stored as `<phase>:<skill>`.

    Onboarding asks it as `pre`, the finale as `post`: same skills, same wording, same
    scale, so the two can be compared.
    """
    scale = program.onboarding.assessment_scale_max
    return [
        Ask(
            f"{phase}_{index}",
            _rating_prompt(skill, scale),
            Scale(1, scale),
            store=f"{phase}:{skill}",
            remind_after=remind_after,
            give_up_after=give_up_after,
        )
        for index, skill in enumerate(program.skills, 1)
    ]


def assessment_ratings(ctx: FlowContext, program: ProgramConfig, *, phase: str) -> dict[str, int]:
    """{skill: rating} of the assessment answered in this run."""
    return {
        skill: int(ctx.data[f"{phase}:{skill}"])
        for skill in program.skills
        if f"{phase}:{skill}" in ctx.data
    }


def consent_prompt(ctx: FlowContext) -> Message:
    text = (
        "Last one. What you share in check-ins and reviews is seen by your cohort; your "
        "ratings only by you and the facilitators. At the end, may I send your manager a "
        "short summary of what you achieved?"
    )
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            answer_buttons(ctx, [(CONSENT_YES, "yes"), (CONSENT_NO, "no")]),
        ],
    )


async def save_profile(ctx: FlowContext) -> None:
    """Copy the answers to the person's profile and log them for the KPIs."""
    program = _program(ctx)
    answers = {q.id: ctx.data[q.id] for q in program.onboarding.questions if q.id in ctx.data}
    if "time_zone" in answers:
        ctx.person.time_zone = str(answers["time_zone"])
    profile = {**ctx.person.profile, **{k: v for k, v in answers.items() if k != "time_zone"}}
    if "manager_consent" in ctx.data:
        profile["manager_consent"] = ctx.data["manager_consent"] == "yes"
    if "manager" in ctx.data:
        profile["manager"] = contact_from(str(ctx.data["manager"]), ctx.effects.origin)
    ctx.person.profile = profile
    cohort_id = ctx.cohort.id if ctx.cohort else None
    ratings = assessment_ratings(ctx, program, phase="pre")
    if ratings:
        ctx.effects.log(
            "assessment.pre", person_id=ctx.person.id, cohort_id=cohort_id, data=ratings
        )
        ctx.effects.log("onboarding.completed", person_id=ctx.person.id, cohort_id=cohort_id)
    else:
        ctx.effects.log("profile.updated", person_id=ctx.person.id, cohort_id=cohort_id)


class FollowUpTimer(TypedDict):
    """One onboarding follow-up DM: to whom, in which cohort, which message."""

    person_id: int
    cohort_id: int | None
    step: int


async def _schedule_follow_ups(ctx: FlowContext) -> None:
    program = _program(ctx)
    for step, days in enumerate(program.onboarding.follow_up_days, 2):
        await ctx.timers.run_once(
            key=f"onboarding:{ctx.run.id}:day{days}",
            task=FOLLOW_UP_TASK,
            at=ctx.run.created_at + timedelta(days=days),
            payload=FollowUpTimer(
                person_id=ctx.person.id,
                cohort_id=ctx.cohort.id if ctx.cohort else None,
                step=step,
            ),
        )


def _summary(ctx: FlowContext) -> Message:
    return view.summary(ctx.person.time_zone, ctx.person.profile)


async def _tell_facilitators(ctx: FlowContext) -> None:
    """After the reminder went unanswered: facilitators see the person as not onboarded."""
    if ctx.cohort is None:
        return
    note = view.not_onboarded_note(ctx.person.display_name, ctx.cohort.name)
    await tell_role(ctx.effects, ctx.cohort.id, Role.FACILITATOR, note)


def _stopped(_ctx: FlowContext) -> Message:
    text = (
        "OK, I've stopped the profile questions. "
        "Type `/cohort profile` whenever you want to fill in or change an answer."
    )
    return Message(text=text, blocks=[Section(text=text)])


def onboarding_flow(program_key: str, program: ProgramConfig) -> Flow:
    return Flow(
        name=onboarding_name(program_key),
        steps=(
            Tell("welcome", _welcome),
            *_survey(program),
            *assessment_steps(program, phase="pre"),
            Ask(
                "consent",
                consent_prompt,
                Choice(("yes", "no")),
                store="manager_consent",
                remind_after=_reminder,
                give_up_after=_give_up,
                skippable=True,  # no answer is no consent
            ),
            Do("manager_gate", skip_unless_consented),
            Ask(
                "manager",
                manager_prompt,
                ManagerContact(),
                store="manager",
                remind_after=_reminder,
                give_up_after=_give_up,
            ),
            Do("save", save_profile),
            Do("follow_ups", _schedule_follow_ups),
            Tell("done", _summary),
        ),
        on_give_up=_tell_facilitators,
        stopped=_stopped,
    )


async def follow_up(task: TaskContext, config: AppConfig) -> None:
    timer = task.payload_as(FollowUpTimer)
    person_id, cohort_id = timer["person_id"], timer["cohort_id"]
    cohort = await task.uow.cohorts.get(cohort_id) if cohort_id else None
    if cohort is None or cohort.program not in config.programs:
        return
    roles = await task.uow.cohorts.roles(cohort_id=cohort.id, person_id=person_id)
    if Role.PARTICIPANT not in roles:
        return  # left the cohort meanwhile
    program = config.programs[cohort.program]
    step = timer["step"]
    await task.effects.dm(person_id, view.follow_up_message(program, step, cohort.name))
    task.effects.log(
        "onboarding.follow_up", person_id=person_id, cohort_id=cohort.id, data={"step": step}
    )
