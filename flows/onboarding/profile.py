"""`/cohort profile`: the person's answers, and changing one of them.

A profile run shows every answer with a Change button each, and one to leave it as it
is. The chosen answer is asked again in a run of its own (`profile.<program>.<field>`)
with the onboarding question's own prompt and answer kind, and only that answer is
saved: `cancel` there changes nothing, and no other question is asked. Agreeing to share
a summary with one's manager is followed by who the manager is, as in onboarding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.config import ProgramConfig
from bot.model.messages import Message
from bot.runtime.answers import Choice
from bot.runtime.effects import Effects
from bot.runtime.engine import (
    Ask,
    Do,
    End,
    Flow,
    FlowContext,
    FlowEngine,
    Goto,
    Step,
    Tell,
    answer_buttons,
    cancel_runs,
)
from flows.onboarding import view
from flows.onboarding.manager_contact import ManagerContact, manager_prompt, skip_unless_consented
from flows.onboarding.survey import (
    answer_kind,
    consent_prompt,
    profile_name,
    question_prompt,
    save_profile,
)
from storage.models import Cohort, Person

KEEP = "keep"
CONSENT = "manager_consent"
MANAGER = "manager"


def change_name(program_key: str, field: str) -> str:
    return f"{profile_name(program_key)}.{field}"


def _all_fields(program: ProgramConfig) -> list[str]:
    """Every answer onboarding stores, the time zone first (as the survey asks it)."""
    questions = sorted(program.onboarding.questions, key=lambda q: q.kind != "time_zone")
    return [question.id for question in questions] + [CONSENT, MANAGER]


def fields_of(program: ProgramConfig, profile: Mapping[str, Any]) -> list[str]:
    """The answers a person sees: the manager only once they agreed to the summary."""
    consented = profile.get(CONSENT) is True
    return [f for f in _all_fields(program) if f != MANAGER or consented]


def field_named(program: ProgramConfig, raw: str) -> str | None:
    """The answer `raw` names, by its id or its label (`time_zone`, `time zone`).

    The manager is found before consent too: asking it then asks for consent first.
    """
    wanted = " ".join(raw.replace("_", " ").casefold().split())
    for field in _all_fields(program):
        if wanted in (field.replace("_", " "), view.answer_label(field).casefold()):
            return field
    return None


def _program(ctx: FlowContext) -> ProgramConfig:
    if ctx.cohort is None or ctx.cohort.program not in ctx.config.programs:
        raise LookupError("a profile needs a cohort with a known program")
    return ctx.config.programs[ctx.cohort.program]


def _answers(ctx: FlowContext) -> list[view.Answer]:
    profile = ctx.person.profile
    return view.profile_answers(ctx.person.time_zone, fields_of(_program(ctx), profile), profile)


def _overview(ctx: FlowContext) -> Message:
    cohort = ctx.cohort.name if ctx.cohort else "your cohort"
    answers = _answers(ctx)
    shown = view.profile(
        answers, f"Your profile in {cohort}. Choose an answer to change, or leave it as it is."
    )
    buttons = answer_buttons(
        ctx,
        [(f"Change {answer.label.lower()}", answer.field) for answer in answers]
        + [("Leave it as it is", KEEP)],
    )
    return shown.model_copy(update={"blocks": [*shown.blocks, buttons]})


def _nothing_changed(_ctx: FlowContext) -> Message:
    return view.nothing_changed()


def _saved(field: str) -> Any:
    def render(ctx: FlowContext) -> Message:
        return view.profile_saved(_answers(ctx), field)

    return render


def _open_change(engine: FlowEngine) -> Any:
    async def act(ctx: FlowContext) -> End | Goto:
        field = str(ctx.data.get("change", KEEP))
        if field == KEEP or ctx.cohort is None:
            return Goto("kept")
        await start_change(engine, ctx.effects, ctx.person, ctx.cohort, field)
        return End()

    return act


def profile_flow(program_key: str, program: ProgramConfig, engine: FlowEngine) -> Flow:
    """The answers, and which one to change (or none)."""
    return Flow(
        name=profile_name(program_key),
        steps=(
            Ask("pick", _overview, Choice((*_all_fields(program), KEEP)), store="change"),
            Do("open", _open_change(engine)),
            Tell("kept", _nothing_changed),
        ),
        stopped=_nothing_changed,
    )


def _change_steps(program: ProgramConfig, field: str) -> Sequence[Step]:
    manager = Ask(MANAGER, manager_prompt, ManagerContact(), store=MANAGER)
    if field == MANAGER:
        return (manager,)
    if field == CONSENT:
        consent = Ask("consent", consent_prompt, Choice(("yes", "no")), store=CONSENT)
        return (consent, Do("manager_gate", skip_unless_consented), manager)
    question = next(q for q in program.onboarding.questions if q.id == field)
    return (
        Ask(
            question.id,
            question_prompt(question, program),
            answer_kind(question, program),
            store=question.id,
        ),
    )


def change_flows(program_key: str, program: ProgramConfig) -> list[Flow]:
    """One short run per answer: its question, then only it is saved."""
    return [
        Flow(
            name=change_name(program_key, field),
            steps=(
                *_change_steps(program, field),
                Do("save", save_profile),
                Tell("done", _saved(field)),
            ),
            stopped=_nothing_changed,
        )
        for field in _all_fields(program)
    ]


async def start_change(
    engine: FlowEngine, effects: Effects, person: Person, cohort: Cohort, field: str
) -> None:
    """Ask one answer again; the manager is asked after consent when there is none yet."""
    if field == MANAGER and person.profile.get(CONSENT) is not True:
        field = CONSENT
    await engine.start(
        flow_name=change_name(cohort.program, field), person=person, cohort=cohort, effects=effects
    )


async def open_profile(
    engine: FlowEngine, effects: Effects, person: Person, cohort: Cohort, field: str | None
) -> None:
    """Show the answers (or ask `field` again), closing any profile question left open."""
    program = engine.config.programs[cohort.program]
    names = [profile_name(cohort.program)]
    names += [change_name(cohort.program, f) for f in _all_fields(program)]
    for name in names:
        open_runs = await effects.uow.flow_runs.active_of(
            flow=name, person_ids=[person.id], cohort_id=cohort.id
        )
        await cancel_runs(open_runs, effects)
    if field is None:
        await engine.start(
            flow_name=profile_name(cohort.program), person=person, cohort=cohort, effects=effects
        )
    else:
        await start_change(engine, effects, person, cohort, field)
