"""`/cohort report`, and the weekly KPI digest that DMs the report to the owners."""

from __future__ import annotations

from bot.commands.router import CommandContext
from bot.config import AppConfig
from bot.model.roles import Role
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.recurrence import weekly
from bot.runtime.scheduler import CohortTimer, TaskContext
from flows.checkin.rounds import cadence_of
from flows.common.availability import tell_role
from flows.reports.kpis import ReportError, cohort_report, current_week, program_report
from flows.reports.view import report_message

DIGEST_TASK = "kpi.digest"


def digest_key(cohort_id: int) -> str:
    return f"kpi:cohort:{cohort_id}:digest"


async def report_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    now = ctx.effects.now
    this_week = current_week(cohort, now)
    asked = ctx.command.options.get("week")
    week = asked if isinstance(asked, int) else this_week
    if isinstance(asked, int) and this_week is not None and asked > this_week:
        await ctx.reply(
            f"Week {asked} of {cohort.name} has not started yet; it is week {this_week}."
        )
        return
    try:
        if ctx.command.options.get("program"):
            report = await program_report(
                ctx.effects.uow, program_key=cohort.program, program=program, week=week, now=now
            )
        else:
            report = await cohort_report(
                ctx.effects.uow, cohort=cohort, program=program, week=week, now=now
            )
    except ReportError as problem:
        await ctx.reply(str(problem))
        return
    await ctx.effects.reply(
        report_message(report, time_zone=cohort.time_zone), person_id=ctx.person.id
    )


async def install_digest(ctx: CohortSetupContext) -> None:
    """The cohort's weekly digest to its owners, on the cadence's `digest` time."""
    key = digest_key(ctx.cohort.id)
    when = cadence_of(ctx.config, ctx.cohort, ctx.program).digest
    if when is None:
        await ctx.timers.cancel(key)
        return
    fields = when.cron_fields()
    await ctx.timers.ensure_repeating(
        key=key,
        task=DIGEST_TASK,
        rule=weekly(
            day_of_week=str(fields["day_of_week"]),
            hour=int(fields["hour"]),
            minute=int(fields["minute"]),
        ),
        time_zone=ctx.cohort.time_zone,
        payload=CohortTimer(cohort_id=ctx.cohort.id),
    )


async def send_digest(task: TaskContext, *, config: AppConfig) -> None:
    """DM this week's report to every owner of the cohort (to date when it has no weeks)."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
        return
    week = current_week(cohort, task.now)
    report = await cohort_report(task.uow, cohort=cohort, program=program, week=week, now=task.now)
    message = report_message(report, time_zone=cohort.time_zone)
    told = await tell_role(task.effects, cohort.id, Role.OWNER, message)
    task.effects.log("kpi.digest_sent", cohort_id=cohort.id, data={"week": week, "owners": told})
