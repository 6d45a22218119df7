"""The KPI report as a chat message: traffic lights, trends and the nudge list."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.model.messages import Block, Context, Fields, Message, Section
from flows.reports.kpis import Kpi, KpiReport, Status, Trend

LIGHTS = {
    Status.GREEN: "🟢",
    Status.AMBER: "🟠",
    Status.RED: "🔴",
    Status.NO_DATA: "⚪",
}
ARROWS = {Trend.UP: "▲", Trend.DOWN: "▼", Trend.FLAT: "="}
MAX_NUDGES = 15


def format_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "no data"
    if kpi.unit == "share":
        return f"{value:.0%}" if kpi.key != "skill_improvement" else f"{value:+.0%}"
    if kpi.unit == "days":
        return f"{value:.1f} days"
    return f"{value:.2f}" if kpi.unit == "rate" else f"{value:.1f}/5"


def target(kpi: Kpi) -> str:
    """`≥ 75%`, or `≤ 14.0 days` when lower is better."""
    sign = "≥" if kpi.higher_is_better else "≤"
    return f"{sign} {format_value(kpi, kpi.green)}"


def trend(kpi: Kpi) -> str:
    """`▲ from 50%`, or nothing without last week's figure."""
    if kpi.trend is None:
        return ""
    return f"{ARROWS[kpi.trend]} from {format_value(kpi, kpi.previous)}"


def kpi_line(kpi: Kpi) -> tuple[str, str]:
    """(label with its light, value with the trend and the target) for one KPI."""
    label = f"{LIGHTS[kpi.status]} {kpi.label} ({kpi.status.value})"
    value = " ".join(part for part in (format_value(kpi, kpi.value), trend(kpi)) if part)
    return label, f"{value}; target {target(kpi)}\n{kpi.detail}"


def period(report: KpiReport, time_zone: str) -> str:
    window = report.window
    if report.week is None or window.start is None:
        return "the program so far"
    zone = ZoneInfo(time_zone)
    first = window.start.astimezone(zone)
    last = (window.end - timedelta(seconds=1)).astimezone(zone)
    return f"week {report.week} ({first:%d %b} to {last:%d %b})"


def title(report: KpiReport, time_zone: str) -> str:
    return f"KPIs of {report.name}: {period(report, time_zone)}"


def nudge_lines(report: KpiReport) -> list[str]:
    lines = []
    for nudge in report.nudges[:MAX_NUDGES]:
        seen = f"{nudge.last_checkin:%d %b}" if nudge.last_checkin else "never"
        lines.append(f"• {nudge.name}: {'; '.join(nudge.reasons)}; last check-in {seen}")
    if len(report.nudges) > MAX_NUDGES:
        lines.append(f"…and {len(report.nudges) - MAX_NUDGES} more")
    return lines


def detail_lines(report: KpiReport) -> list[str]:
    """Attendance per session and the spread of satisfaction ratings, when there are any."""
    lines = []
    shown = [
        f"#{s.number or '?'} {s.rate:.0%} ({s.attended}/{s.expected})"
        for s in report.sessions
        if s.rate is not None
    ]
    if shown:
        lines.append("Sessions: " + ", ".join(shown))
    if any(report.satisfaction.values()):
        spread = " · ".join(f"{score}★ {n}" for score, n in sorted(report.satisfaction.items()))
        lines.append(f"Ratings: {spread}")
    return lines


def report_message(report: KpiReport, *, time_zone: str) -> Message:
    """The card the command and the digest send; the text fallback says everything too."""
    heading = title(report, time_zone)
    lines = [kpi_line(kpi) for kpi in report.kpis]
    funnel = report.funnel
    funnel_text = (
        f"Funnel: {funnel.invited} invited → {funnel.engaged} engaged → "
        f"{funnel.reviewed} reviewed → {funnel.improved} improved"
    )
    details = [funnel_text, *detail_lines(report)]
    nudges = nudge_lines(report)
    nudge_text = (
        f"*Needs a nudge ({len(report.nudges)}):*\n" + "\n".join(nudges)
        if nudges
        else "Nobody needs a nudge."
    )
    legend = "🟢 on target · 🟠 at risk · 🔴 needs intervention · ⚪ no data yet · ▲▼ vs. last week"
    blocks: list[Block] = [
        Section(text=f"*{heading}*"),
        Fields(items=lines),
        Section(text="\n".join(details)),
        Section(text=nudge_text),
        Context(text=legend),
    ]
    text = "\n".join(
        [
            heading,
            *(f"{label}: {value.splitlines()[0]}" for label, value in lines),
            *details,
            nudge_text.replace("*", ""),
        ]
    )
    return Message(text=text, blocks=blocks)
