"""The end of the program: `/cohort finale [start|celebrate]` and the timers behind it.

On the cohort's last program day (see `schedule`) every participant gets the closing
survey by DM: the post-assessment and the pilot evaluation (`survey`, `evaluation`).
Some days later the cohort channel gets the celebration (`celebration`) and managers get
the summaries participants agreed to share (`manager_summary`); `run` drives both steps.
Facilitators and program owners can run either step now; running one twice sends
nothing twice.

This module holds the command spec and `register()`; the command and the finale timer
live in `commands`, and what the survey, the celebration and the manager summaries say
(pure renderers) in `view`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.finale import run as finale_run
from flows.finale.commands import cohort_and_program_of_timer, finale_command, install_finale
from flows.finale.survey import finale_flow

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})
FINALE = CommandSpec(
    name="finale",
    summary="The end of the program: closing survey, celebration, manager summaries",
    usage="[start|celebrate] [--cohort <cohort>]",
    max_args=1,
    subcommands=("start", "celebrate"),
    options=(Option("cohort", "text", "the cohort, when you run more than one"),),
    roles=STAFF,
    details=(
        "`/cohort finale` says when the finale is and how many have completed. "
        "`start` sends the closing survey (post-assessment and evaluation) to every "
        "participant now instead of on the last program day; `celebrate` posts the "
        "celebration in the cohort channel now and sends the manager summaries that "
        "participants agreed to. Neither sends anything twice."
    ),
)


def register(wiring: Wiring) -> None:
    for key, program in wiring.config.programs.items():
        wiring.engine.register(finale_flow(key, program))

    async def start_task(task: TaskContext) -> None:
        found = await cohort_and_program_of_timer(task, wiring.config)
        if found is not None:
            cohort, program = found
            await finale_run.start_finale(
                task.effects, engine=wiring.engine, cohort=cohort, program=program, by=None
            )

    async def celebrate_task(task: TaskContext) -> None:
        found = await cohort_and_program_of_timer(task, wiring.config)
        if found is not None:
            cohort, program = found
            await finale_run.celebrate(task.effects, cohort=cohort, program=program)

    async def command(ctx: CommandContext) -> None:
        await finale_command(ctx, config=wiring.config)

    wiring.tasks.register(finale_run.START_TASK, start_task)
    wiring.tasks.register(finale_run.CELEBRATE_TASK, celebrate_task)
    wiring.setup.register(install_finale)
    wiring.router.register(FINALE, command)
