"""The session cadence: a kickoff post in the cohort channel at the program's session time.

Only on program days (no holidays, no skipped weekends) and only within the program's
weeks. The post names the rotating facilitator when the program rotates the role, links
the session calendar, and starts the session itself when the program says `auto_start`.
The post is rendered in `view`.
"""

from __future__ import annotations

from bot.config import AppConfig
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.recurrence import weekly
from bot.runtime.scheduler import CohortTimer, TaskContext
from flows.common.availability import is_program_day, local_day, program_week
from flows.session import view
from flows.session.calendar import calendar_url
from flows.session.roles import rotating_facilitator
from flows.session.runner import SessionRunner

KICKOFF_TASK = "session.kickoff"


def kickoff_key(cohort_id: int) -> str:
    return f"cohort:{cohort_id}:session.kickoff"


async def install_kickoff(ctx: CohortSetupContext) -> None:
    """Keep the cohort's weekly kickoff timer in line with the program's cadence."""
    cadence = ctx.program.cadence.session
    key = kickoff_key(ctx.cohort.id)
    if cadence is None:
        await ctx.timers.cancel(key)
        return
    start = ctx.cohort.start_date or local_day(ctx.cohort.created_at, ctx.cohort.time_zone)
    rule = weekly(
        day_of_week=str(cadence.cron_fields()["day_of_week"]),
        hour=cadence.time.hour,
        minute=cadence.time.minute,
        every_weeks=ctx.program.cadence.every_weeks,
        start=start,
    )
    await ctx.timers.ensure_repeating(
        key=key,
        task=KICKOFF_TASK,
        rule=rule,
        time_zone=ctx.cohort.time_zone,
        payload=CohortTimer(cohort_id=ctx.cohort.id),
    )


async def kickoff(task: TaskContext, *, config: AppConfig, runner: SessionRunner) -> None:
    """Post the kickoff (and start the session, if automatic) on a program day."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
        return
    day = local_day(task.occurrence_at, cohort.time_zone)
    week = program_week(cohort, day)
    outside = cohort.start_date is not None and (week is None or week > program.weeks)
    if outside or not is_program_day(program, day):
        return
    uow, effects = task.uow, task.effects
    number = await uow.cohort_sessions.count(cohort.id) + 1
    named = await rotating_facilitator(uow, cohort, program, number=number, now=task.now)
    running = await uow.cohort_sessions.current(cohort.id) is not None
    await effects.channel(
        cohort.id,
        view.kickoff_message(
            number=number,
            cohort_name=cohort.name,
            minutes=program.session_minutes,
            facilitator=named.display_name if named is not None else None,
            starts_now=program.session.auto_start and not running,
            calendar_url=calendar_url(config, cohort),
        ),
    )
    effects.log("session.kickoff", cohort_id=cohort.id, data={"number": number})
    if program.session.auto_start and not running:
        await runner.start(
            effects, cohort, facilitator_id=named.id if named else None, note_taker_id=None
        )
