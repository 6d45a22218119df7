"""Round-robin check-ins: `/cohort checkin`, `/cohort nudges`, and the cadence that drives them.

This module holds the command specs and `register()`. The pieces live in sibling modules:
commands (the two commands and the cadence timer), rounds (open, prompt, nudge, close),
answers (the DM and its form), digest (with help offers), pulse (pulse check-ins) and
live (live mode); view renders their messages (pure functions) and holds the action ids.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.checkin import answers as checkin_answers
from flows.checkin import digest as checkin_digest
from flows.checkin import live as checkin_live
from flows.checkin import pulse
from flows.checkin import rounds as checkin_rounds
from flows.checkin import view as checkin_view
from flows.checkin.commands import checkin_command, install_cadence, nudges_command
from flows.common.wiring import Wiring

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})
COHORT_OPTION = Option("cohort", "text", "the cohort, when you run more than one")

CHECKIN = CommandSpec(
    name="checkin",
    summary="Open a check-in round now, close it early, or run one live during a session",
    usage="[close|live|skip|pause|resume] [--cohort <cohort>]",
    max_args=1,
    subcommands=("close", "live", "skip", "pause", "resume"),
    options=(COHORT_OPTION,),
    roles=STAFF,
    details=(
        "`/cohort checkin` DMs every participant for one success and one challenge now; "
        "the digest is posted in the cohort channel when the round closes "
        "(after `checkin.close_after_hours` of program days), or at once with "
        "`/cohort checkin close`. "
        "`/cohort checkin live` calls on each present participant in turn in a channel "
        "thread; `skip` moves to the next person, `pause` and `resume` hold the turn."
    ),
)
NUDGES = CommandSpec(
    name="nudges",
    summary="Who needs a nudge: two missed check-ins in a row, or inactive",
    usage="[--cohort <cohort>]",
    options=(COHORT_OPTION,),
    roles=STAFF,
)


def register(wiring: Wiring) -> None:
    for key, program in wiring.config.programs.items():
        wiring.engine.register(checkin_answers.checkin_flow(key, program))
        wiring.engine.register(pulse.pulse_flow(key, program))
    wiring.engine.register(checkin_live.live_flow())

    async def open_task(task: TaskContext) -> None:
        await checkin_rounds.open_on_cadence(task, engine=wiring.engine, config=wiring.config)

    async def prompt_task(task: TaskContext) -> None:
        await checkin_rounds.prompt_due(task, engine=wiring.engine)

    async def pulse_task(task: TaskContext) -> None:
        await pulse.open_pulse(task, engine=wiring.engine, config=wiring.config)

    async def checkin(ctx: CommandContext) -> None:
        await checkin_command(ctx, config=wiring.config)

    wiring.tasks.register(checkin_rounds.OPEN_TASK, open_task)
    wiring.tasks.register(checkin_rounds.PROMPT_TASK, prompt_task)
    wiring.tasks.register(checkin_rounds.NUDGE_TASK, checkin_rounds.nudge_due)
    wiring.tasks.register(checkin_rounds.CLOSE_TASK, checkin_rounds.close_due)
    wiring.tasks.register(pulse.PULSE_TASK, pulse_task)
    wiring.setup.register(install_cadence)
    wiring.setup.register(pulse.install_pulses)
    wiring.router.register(CHECKIN, checkin)
    wiring.router.register(NUDGES, nudges_command)
    wiring.router.register_action(checkin_view.DONE_ACTION, checkin_live.turn_done)
    wiring.router.register_form(checkin_view.FORM, checkin_answers.submit_form)
    wiring.router.register_action(checkin_view.WANT_HELP_ACTION, checkin_answers.want_help)
    wiring.router.register_action(checkin_view.HELP_ACTION, checkin_digest.offer_help)
