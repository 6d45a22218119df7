"""The end of the program: `/cohort finale [start|celebrate]` and the timers behind it.

On the cohort's last program day (see `flows.finale_schedule`) every participant gets
the closing survey by DM: the post-assessment and the pilot evaluation
(`flows.finale_survey`). Some days later the cohort channel gets the celebration and
managers get the summaries participants agreed to share (`flows.finale_run`).
Facilitators and program owners can run either step now; running one twice sends
nothing twice.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.config import AppConfig, ProgramConfig
from bot.model.roles import Role
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.finale import run as finale_run
from flows.finale.schedule import finale_at
from flows.finale.survey import COMPLETED, finale_flow
from storage.models import Cohort

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


async def install_finale(ctx: CohortSetupContext) -> None:
    """The cohort's finale timer on its last program day, unless it has run already."""
    key = finale_run.start_key(ctx.cohort.id)
    when = finale_at(ctx.cohort, ctx.program)
    started = await ctx.uow.activity.count(verb=finale_run.STARTED, cohort_id=ctx.cohort.id)
    if when is None or started:
        await ctx.timers.cancel(key)
        return
    if when <= ctx.now:
        return  # past: an unclaimed timer still catches up; a new one would be late
    await ctx.timers.run_once(
        key=key, task=finale_run.START_TASK, at=when, payload={"cohort_id": ctx.cohort.id}
    )


async def _cohort_and_program(
    task: TaskContext, config: AppConfig
) -> tuple[Cohort, ProgramConfig] | None:
    cohort = await task.uow.cohorts.get(int(task.payload["cohort_id"]))
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or cohort.status != "active":
        return None
    return cohort, program


async def finale_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    action = ctx.command.args[0] if ctx.command.args else "status"
    effects = ctx.effects
    if action == "start":
        started = await finale_run.start_finale(
            effects, engine=ctx.engine, cohort=cohort, program=program, by=ctx.person.id
        )
        if started.first_time:
            await ctx.reply(
                f"The finale of {cohort.name} has started: I've sent the closing survey to "
                f"{_participants(started.invited)} by DM. The celebration follows in "
                f"{program.finale.celebrate_after_hours} hours (or `/cohort finale celebrate`)."
            )
        elif started.invited:
            await ctx.reply(
                f"The finale was already running; I've now also asked "
                f"{_participants(started.invited)} who had not been asked yet."
            )
        else:
            await ctx.reply(
                f"The finale of {cohort.name} is already running and everyone has been asked."
            )
        return
    if action == "celebrate":
        if not await finale_run.has_started(effects, cohort.id):
            await ctx.reply("Start the finale first: `/cohort finale start`.")
            return
        posted = await finale_run.celebrate(effects, cohort=cohort, program=program)
        await ctx.reply(
            "The celebration is in the cohort channel."
            if posted
            else "The celebration was posted already; nothing was sent again."
        )
        return
    await ctx.reply(await _status(ctx, cohort, program))


def _participants(n: int) -> str:
    return f"{n} participant" if n == 1 else f"{n} participants"


async def _status(ctx: CommandContext, cohort: Cohort, program: ProgramConfig) -> str:
    uow = ctx.effects.uow
    if await finale_run.has_started(ctx.effects, cohort.id):
        done = await uow.activity.count(verb=COMPLETED, cohort_id=cohort.id)
        asked = await uow.activity.count(verb=finale_run.INVITED, cohort_id=cohort.id)
        return f"The finale of {cohort.name} is running: {done} of {asked} asked have completed."
    when = finale_at(cohort, program)
    if when is None:
        return (
            f"{cohort.name} has no start date, so its finale is not scheduled. "
            "Run it with `/cohort finale start`."
        )
    local = when.astimezone(ZoneInfo(ctx.person.time_zone))
    return (
        f"The finale of {cohort.name} starts {local:%A %d %B %Y at %H:%M} (your time), "
        "the last program day. `/cohort finale start` runs it now."
    )


def register(wiring: Wiring) -> None:
    router, engine, tasks, config, setup = (
        wiring.router,
        wiring.engine,
        wiring.tasks,
        wiring.config,
        wiring.setup,
    )
    for key, program in config.programs.items():
        engine.register(finale_flow(key, program))

    async def start_task(task: TaskContext) -> None:
        found = await _cohort_and_program(task, config)
        if found is not None:
            cohort, program = found
            await finale_run.start_finale(
                task.effects, engine=engine, cohort=cohort, program=program, by=None
            )

    async def celebrate_task(task: TaskContext) -> None:
        found = await _cohort_and_program(task, config)
        if found is not None:
            cohort, program = found
            await finale_run.celebrate(task.effects, cohort=cohort, program=program)

    async def command(ctx: CommandContext) -> None:
        await finale_command(ctx, config=config)

    tasks.register(finale_run.START_TASK, start_task)
    tasks.register(finale_run.CELEBRATE_TASK, celebrate_task)
    setup.register(install_finale)
    router.register(FINALE, command)
