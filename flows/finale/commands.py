"""`/cohort finale [start|celebrate]`, and the timer that starts the finale on the last day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.commands.router import CommandContext
from bot.config import AppConfig, ProgramConfig
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.scheduler import CohortTimer, TaskContext
from flows.finale import run as finale_run
from flows.finale.schedule import finale_at
from flows.finale.survey import COMPLETED
from storage.models import Cohort


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
        key=key, task=finale_run.START_TASK, at=when, payload=CohortTimer(cohort_id=ctx.cohort.id)
    )


async def cohort_and_program_of_timer(
    task: TaskContext, config: AppConfig
) -> tuple[Cohort, ProgramConfig] | None:
    """The cohort a finale timer is for, with its program; None once it is not active."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
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
