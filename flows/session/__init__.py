"""Facilitated sessions: `/cohort session start|next|pause|resume|end`.

Facilitators and program owners run sessions; when the program rotates the role, the
participant named for the next session may start it, and a session's own facilitator
may steer it.

This module holds the command spec and `register()`. The command lives in `commands`;
the agenda itself runs in `runner` (with `agenda`), the kickoff on the cadence in
`kickoff`, commitments and ratings in `commitments` and `followups`; `view` renders
their messages (pure functions) and holds the action ids.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import ActionContext, CommandContext
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.session import kickoff, note_taker, view
from flows.session.commands import session_command
from flows.session.commitments import commitment_flow
from flows.session.followups import commitment_answered, session_rated
from flows.session.runner import ADVANCE_TASK, SessionRunner

SESSION = CommandSpec(
    name="session",
    summary="Run a facilitated session: start, next, pause, resume, end",
    usage="start|next|pause|resume|end [cohort] [--note-taker @person]",
    min_args=1,
    max_args=2,
    subcommands=("start", "next", "pause", "resume", "end"),
    options=(
        Option("note-taker", "flag", "with start: the person mentioned is asked to take the notes"),
        Option("cohort", "text", "the cohort, when you run more than one"),
    ),
    details=(
        "`start` posts the agenda in the cohort channel and runs it on timers, and asks "
        "the note-taker (the one mentioned, else whoever's turn it is) by DM to accept; "
        "`next` moves to the next item now; `pause` freezes the clock and `resume` "
        "continues it; `end` closes the session and asks attendees for a rating. "
        "Facilitators and program owners may run sessions (and the participant named "
        "facilitator, when the program rotates the role)."
    ),
)


def register(wiring: Wiring) -> None:
    runner = SessionRunner(config=wiring.config, engine=wiring.engine)
    wiring.engine.register(commitment_flow())

    async def command(ctx: CommandContext) -> None:
        await session_command(ctx, runner)

    wiring.router.register(SESSION, command, cohort_arg=1)
    wiring.router.register_action(view.HERE_ACTION, runner.here)

    async def note_taker_answered(ctx: ActionContext) -> None:
        await note_taker.answered(ctx, runner.refresh)

    wiring.router.register_action(view.NOTE_TAKER_ACTION, note_taker_answered)
    wiring.router.register_action(view.KEPT_ACTION, commitment_answered)
    wiring.router.register_action(view.RATE_ACTION, session_rated)
    wiring.tasks.register(ADVANCE_TASK, runner.on_timer)

    async def start_on_cadence(task: TaskContext) -> None:
        await kickoff.kickoff(task, config=wiring.config, runner=runner)

    wiring.tasks.register(kickoff.KICKOFF_TASK, start_on_cadence)
    wiring.setup.register(kickoff.install_kickoff)
