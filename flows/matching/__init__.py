"""Peer matching: `/cohort pair [pairs|triads]` and the program's pairing cadence.

A cycle takes the participants who can be prompted today (not away, not inactive),
forms groups with `pairing.match` against the cohort's whole history (so nobody
meets the same person twice before meeting everyone), stores them, introduces each
group (a group DM where the platform can open one, else a DM each) with why they were
matched and a first task, and schedules the "did you meet?" check (`meet_check`). The
facilitator sees every group and everyone left out, with the reason.

This module holds the command spec and `register()`; the command lives in `commands`,
the cycle and the cadence that runs it in `cycle`, the "did you meet?" check in
`meet_check`, and what the intros, summaries and thanks say in `view`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.matching import meet_check
from flows.matching.commands import pair_command
from flows.matching.cycle import CYCLE_TASK, cadenced_cycle, install_cadence

MODES = ("pairs", "triads")

PAIR = CommandSpec(
    name="pair",
    summary="Match the cohort now: pairs, or triads of two peers plus a mentor",
    usage="[pairs|triads] [--cohort <cohort>]",
    max_args=1,
    subcommands=MODES,
    options=(Option("cohort", "text", "the cohort, when you run more than one"),),
    roles=frozenset({Role.FACILITATOR, Role.OWNER}),
    details=(
        "Starts a new matching cycle for everyone who is neither away nor inactive. "
        "Groups pair complementary skills and shared working hours, and nobody meets the "
        "same person again before meeting everyone. Each group gets an intro with a first "
        "task; a few days later I ask each member whether they met. Without a mode, the "
        "program's default (app.yaml `matching.mode`) is used."
    ),
)


def register(wiring: Wiring) -> None:
    wiring.engine.register(meet_check.meet_check_flow())

    async def pair(ctx: CommandContext) -> None:
        await pair_command(ctx, wiring.config)

    async def cycle(task: TaskContext) -> None:
        await cadenced_cycle(task, wiring.config)

    async def ask(task: TaskContext) -> None:
        await meet_check.ask_if_met(task, engine=wiring.engine, config=wiring.config)

    wiring.router.register(PAIR, pair)
    wiring.tasks.register(CYCLE_TASK, cycle)
    wiring.tasks.register(meet_check.MEET_CHECK_TASK, ask)
    wiring.setup.register(install_cadence)
