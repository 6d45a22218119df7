"""`/cohort report`, the weekly KPI digest to the program owners, and `/cohort deliveries`.

This module holds the command spec and `register()`. The report command and the digest
timer live in `commands`; the report itself in `kpis` (with `tally`, `measure`, `model`
and the chat view in `view`), the dashboard in `dashboard` and `dashboard_link`,
exports in `export`, and `/cohort deliveries` in `deliveries`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.reports import dashboard_link, deliveries
from flows.reports.commands import DIGEST_TASK, install_digest, report_command, send_digest

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})
"""Who reads the KPIs: the figures name participants who need a nudge, so not peers."""

REPORT = CommandSpec(
    name="report",
    summary="KPIs of a cohort: colour-coded, with trends and who needs a nudge",
    usage="[cohort] [--week N] [--program]",
    max_args=1,
    options=(
        Option("week", "int", "a program week (1 is the week of the start date)"),
        Option("cohort", "text", "the cohort, when you run more than one"),
        Option("program", "flag", "every cohort of the cohort's program, added up"),
    ),
    roles=STAFF,
    details=(
        "`/cohort report` shows this week's KPIs of your cohort against the program's "
        "targets (🟢 on target, 🟠 at risk, 🔴 needs intervention), the change since last "
        "week, the funnel and who needs a nudge. `--week 3` shows an earlier week; "
        "`--program` adds up every cohort of the program, each in its own week 3. Only "
        "you see the answer."
    ),
)


def register(wiring: Wiring) -> None:

    async def report(ctx: CommandContext) -> None:
        await report_command(ctx, config=wiring.config)

    async def digest_task(task: TaskContext) -> None:
        await send_digest(task, config=wiring.config)

    wiring.router.register(REPORT, report, cohort_arg=0)
    wiring.router.register(deliveries.DELIVERIES, deliveries.deliveries_command)
    wiring.tasks.register(DIGEST_TASK, digest_task)
    wiring.setup.register(install_digest)
    dashboard_link.register(router=wiring.router, config=wiring.config, links=wiring.links)
