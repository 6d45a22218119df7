"""The dashboard's content: the KPI module's report for a cohort or a program, as a page."""

from __future__ import annotations

from datetime import datetime

from bot.config import AppConfig, ProgramConfig
from bot.web.charts import Bar, bar_chart, column_chart
from bot.web.dashboard import DashboardScope, PageBuilder
from bot.web.dashboard_page import AtRisk, ChartCard, DashboardPage, KpiRow, ScopeLink
from flows.reports.kpis import (
    Kpi,
    KpiReport,
    ReportError,
    Status,
    cohort_overview,
    program_overview,
)
from flows.reports.view import format_value, period, target, trend
from storage.uow import UnitOfWork

STATUS_CLASS = {
    Status.GREEN: "green",
    Status.AMBER: "amber",
    Status.RED: "red",
    Status.NO_DATA: "none",
}


def page_builder(config: AppConfig) -> PageBuilder:
    async def build(
        uow: UnitOfWork, scope: DashboardScope, nav: list[ScopeLink], now: datetime
    ) -> DashboardPage:
        try:
            overall, weekly, time_zone = await _reports(uow, config, scope, now)
        except ReportError as problem:
            return DashboardPage(
                title=scope.key, subtitle=str(problem), generated_at=now, scopes=nav
            )
        return _page(overall, weekly, time_zone=time_zone, nav=nav, now=now)

    return build


async def _reports(
    uow: UnitOfWork, config: AppConfig, scope: DashboardScope, now: datetime
) -> tuple[KpiReport, list[KpiReport], str]:
    """The report of the program so far and one per week up to this one."""
    if scope.kind == "cohort":
        cohort = await uow.cohorts.by_key(scope.key)
        if cohort is None:
            raise ReportError(f"There is no cohort '{scope.key}'.")
        program = _program(config, cohort.program)
        overall, series = await cohort_overview(uow, cohort=cohort, program=program, now=now)
        return overall, list(series[: program.weeks]), cohort.time_zone
    program = _program(config, scope.key)
    overall, series = await program_overview(uow, program_key=scope.key, program=program, now=now)
    return overall, list(series[: program.weeks]), config.scheduler.time_zone


def _program(config: AppConfig, key: str) -> ProgramConfig:
    program = config.programs.get(key)
    if program is None:
        raise ReportError(f"The program '{key}' is no longer in the configuration.")
    return program


def kpi_row(kpi: Kpi) -> KpiRow:
    return KpiRow(
        key=kpi.key,
        name=kpi.label,
        shown=format_value(kpi, kpi.value),
        target=target(kpi),
        status=STATUS_CLASS[kpi.status],
        trend=trend(kpi),
    )


def _page(
    overall: KpiReport,
    weekly: list[KpiReport],
    *,
    time_zone: str,
    nav: list[ScopeLink],
    now: datetime,
) -> DashboardPage:
    what = "Program" if overall.scope == "program" else "Cohort"
    return DashboardPage(
        title=overall.name,
        subtitle=f"{what} KPIs for {period(overall, time_zone)}; {len(weekly)} week(s) begun.",
        generated_at=now,
        scopes=nav,
        kpis=[kpi_row(kpi) for kpi in overall.kpis],
        charts=_charts(overall, weekly),
        at_risk=[
            AtRisk(name=nudge.name, reason="; ".join(nudge.reasons)) for nudge in overall.nudges
        ],
    )


def _weekly_share(name: str, title: str, key: str, weekly: list[KpiReport]) -> ChartCard:
    columns = []
    target = None
    for report in weekly:
        kpi = report.kpi(key)
        target = kpi.green
        columns.append(
            Bar(
                label=f"W{report.week}",
                value=kpi.value or 0.0,
                shown=format_value(kpi, kpi.value) if kpi.value is not None else "no data",
                status=STATUS_CLASS[kpi.status],
            )
        )
    return ChartCard(
        title=title,
        svg=column_chart(name, title, columns, max_value=1.0, target=target),
        caption="Dashed line: the target.",
    )


def _charts(overall: KpiReport, weekly: list[KpiReport]) -> list[ChartCard]:
    funnel = overall.funnel
    invited = max(funnel.invited, 1)
    stages = [
        ("Invited", funnel.invited),
        ("Engaged", funnel.engaged),
        ("Reviewed", funnel.reviewed),
        ("Improved", funnel.improved),
    ]
    satisfaction = overall.satisfaction
    sessions = [
        Bar(
            label=f"#{session.number}" if session.number is not None else "?",
            value=session.rate or 0.0,
            shown=f"{session.attended}/{session.expected}",
        )
        for session in overall.sessions
    ]
    turnaround = overall.kpi("review_turnaround_days")
    rating = overall.kpi("satisfaction")
    improvement = overall.kpi("skill_improvement")
    return [
        ChartCard(
            title="Funnel",
            svg=bar_chart(
                "funnel",
                "Funnel",
                [Bar(label, count, f"{count} ({count / invited:.0%})") for label, count in stages],
                max_value=invited,
            ),
            caption="Each stage counts people who also reached the one before.",
        ),
        _weekly_share(
            "participation", "Check-in participation by week", "participation_rate", weekly
        ),
        _weekly_share("attendance-weekly", "Session attendance by week", "attendance", weekly),
        ChartCard(
            title="Attendance per session",
            svg=column_chart("attendance", "Attendance per session", sessions, max_value=1.0),
        ),
        ChartCard(
            title="Satisfaction",
            svg=column_chart(
                "satisfaction",
                "Satisfaction ratings",
                [
                    Bar(f"{score}", satisfaction.get(score, 0), str(satisfaction.get(score, 0)))
                    for score in range(1, 6)
                ],
            ),
            caption=f"Average {format_value(rating, rating.value)}.",
        ),
        ChartCard(
            title="Peer reviews",
            svg=bar_chart(
                "reviews",
                "Peer reviews",
                [
                    Bar("Reviews given", overall.reviews_given, str(overall.reviews_given)),
                    Bar("On time", overall.reviews_on_time, str(overall.reviews_on_time)),
                    Bar("Kudos", overall.kudos, str(overall.kudos)),
                ],
            ),
            caption=(
                f"Turnaround {format_value(turnaround, turnaround.value)} "
                f"({overall.review_deadline})."
            ),
        ),
        ChartCard(
            title="Commitments",
            svg=bar_chart(
                "commitments",
                "Commitments",
                [
                    Bar("Made", overall.commitments_made, str(overall.commitments_made)),
                    Bar("Kept", overall.commitments_kept, str(overall.commitments_kept), "green"),
                    Bar(
                        "Not kept",
                        overall.commitments_not_kept,
                        str(overall.commitments_not_kept),
                        "red",
                    ),
                ],
            ),
        ),
        ChartCard(
            title="Skill improvement",
            svg=bar_chart(
                "skills",
                "Skill improvement",
                [
                    Bar(
                        "Post vs. pre",
                        max(0.0, improvement.value or 0.0),
                        format_value(improvement, improvement.value),
                        STATUS_CLASS[improvement.status],
                    )
                ],
                max_value=max(0.3, improvement.green * 2),
                target=improvement.green,
            ),
            caption=improvement.detail,
        ),
    ]
