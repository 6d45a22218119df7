"""Joining a cohort: record the membership, welcome the person, confirm their time zone.

The full onboarding survey builds on this; here the person learns what the program asks
of them and confirms the time zone every cadence will use. An unanswered confirmation
gets one reminder; after that the facilitators hear that the person is not onboarded.
"""

from __future__ import annotations

from datetime import timedelta

from bot.answers import TimeZone
from bot.commandline import CommandSpec, Role
from bot.commands import CommandContext, CommandRouter
from bot.engine import Ask, Do, Flow, FlowContext, FlowEngine, Tell, answer_buttons
from bot.messages import Block, Context, Fields, Message, Section

FLOW = "join"


def _program_line(ctx: FlowContext) -> str:
    cohort = ctx.cohort
    if cohort is None or cohort.program not in ctx.config.programs:
        return ""
    program = ctx.config.programs[cohort.program]
    low, high = program.task_minutes
    return (
        f"{program.description.strip()} It runs for {program.weeks} weeks, "
        f"with sessions of {program.session_minutes} minutes and short tasks of "
        f"{low}-{high} minutes in between."
    ).strip()


def _welcome(ctx: FlowContext) -> Message:
    name = ctx.cohort.name if ctx.cohort else "your cohort"
    first = ctx.person.display_name.split(" ")[0] or "there"
    program = _program_line(ctx)
    text = f"Welcome to {name}, {first}! {program}".strip()
    blocks: list[Block] = [Section(text=f"*Welcome to {name}, {first}!*")]
    if program:
        blocks.append(Section(text=program))
    blocks.append(Context(text="Type `help` here at any time to see what I can do."))
    return Message(text=text, blocks=blocks)


def _ask_time_zone(ctx: FlowContext) -> Message:
    current = ctx.person.time_zone
    question = (
        f"Your time zone is set to *{current}*. Reminders and check-ins follow it. "
        "Is that right? If not, type yours (for example Europe/Berlin)."
    )
    return Message(
        text=question,
        blocks=[
            Section(text=question),
            answer_buttons(ctx, [(f"Yes, {current}", current)]),
        ],
    )


def _reminder_delay(ctx: FlowContext) -> timedelta:
    return timedelta(hours=_onboarding(ctx)[0])


def _give_up_delay(ctx: FlowContext) -> timedelta:
    return timedelta(hours=_onboarding(ctx)[1])


def _onboarding(ctx: FlowContext) -> tuple[int, int]:
    program = ctx.config.programs.get(ctx.cohort.program) if ctx.cohort else None
    if program is None:
        return 24, 48
    return program.onboarding.reminder_hours, program.onboarding.give_up_hours


async def _save_time_zone(ctx: FlowContext) -> None:
    zone = str(ctx.data["time_zone"])
    if ctx.person.time_zone != zone:
        ctx.person.time_zone = zone
    ctx.effects.log(
        "profile.time_zone_confirmed",
        person_id=ctx.person.id,
        cohort_id=ctx.cohort.id if ctx.cohort else None,
        data={"time_zone": zone},
    )


def _all_set(ctx: FlowContext) -> Message:
    text = f"Thanks, you're all set. Times I mention are in {ctx.person.time_zone}."
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Fields(
                items=[
                    ("Cohort", ctx.cohort.name if ctx.cohort else "-"),
                    ("Time zone", ctx.person.time_zone),
                ]
            ),
        ],
    )


async def _tell_facilitators(ctx: FlowContext) -> None:
    """After the reminder went unanswered: facilitators see the person as not onboarded."""
    if ctx.cohort is None:
        return
    note = Message(
        text=f"{ctx.person.display_name} has not confirmed their details for "
        f"{ctx.cohort.name} yet: not onboarded. A personal nudge may help.",
    )
    for member, role in await ctx.effects.uow.cohorts.members(ctx.cohort.id):
        if role == Role.FACILITATOR:
            await ctx.effects.dm(member.id, note)


join_flow = Flow(
    name=FLOW,
    steps=(
        Tell("welcome", _welcome),
        Ask(
            "time_zone",
            _ask_time_zone,
            TimeZone(),
            store="time_zone",
            remind_after=_reminder_delay,
            give_up_after=_give_up_delay,
        ),
        Do("save_time_zone", _save_time_zone),
        Tell("all_set", _all_set),
    ),
    on_give_up=_tell_facilitators,
)


JOIN = CommandSpec(
    name="join",
    summary="Join a cohort; I'll send you a welcome by DM",
    usage="<cohort>",
    min_args=1,
    max_args=1,
    details="Adds you to the cohort as a participant and starts your onboarding.",
)


async def join_command(ctx: CommandContext) -> None:
    key = ctx.command.args[0].lower()
    cohort = await ctx.effects.uow.cohorts.by_key(key)
    if cohort is None:
        keys = ", ".join(c.key for c in await ctx.effects.uow.cohorts.all()) or "none yet"
        await ctx.reply(
            f"There is no cohort '{ctx.command.args[0]}'. Cohorts you can join: {keys}."
        )
        return
    now = ctx.effects.now
    added = await ctx.effects.uow.cohorts.add_member(
        cohort_id=cohort.id, person_id=ctx.person.id, role=Role.PARTICIPANT, now=now
    )
    if not added:
        await ctx.reply(f"You're already in {cohort.name}.")
        return
    ctx.effects.log("cohort.joined", person_id=ctx.person.id, cohort_id=cohort.id)
    await ctx.reply(f"You joined {cohort.name}. I've sent you a welcome message by DM.")
    await ctx.engine.start(flow_name=FLOW, person=ctx.person, cohort=cohort, effects=ctx.effects)


def register(router: CommandRouter, engine: FlowEngine) -> None:
    engine.register(join_flow)
    router.register(JOIN, join_command)
