"""Raw figures to KPIs: each one's value, traffic light and the counts behind it."""

from __future__ import annotations

from bot.config import KpiThreshold, ProgramConfig
from flows.reports.deadlines import deadline_phrase
from flows.reports.model import Kpi, Status, Unit
from flows.reports.tally import Tally


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def measure(figures: Tally, program: ProgramConfig) -> list[Kpi]:
    """Turn raw figures into KPIs with the program's traffic lights."""
    limits = program.kpis
    attended = sum(s.attended for s in figures.sessions)
    expected = sum(s.expected for s in figures.sessions)
    ratings = sum(figures.ratings.values())
    score = sum(k * n for k, n in figures.ratings.items())
    hours = figures.turnaround_hours
    followed = figures.commitments_kept + figures.commitments_not_kept
    volume = figures.reviews_given + figures.kudos
    per_week = figures.participants * figures.weeks
    pre, post = figures.pre_sum, figures.post_sum
    rows: list[tuple[str, str, float | None, Unit, KpiThreshold, str]] = [
        (
            "engagement",
            "Engaged",
            _ratio(figures.engaged, figures.invited),
            "share",
            limits.engagement,
            f"{figures.engaged} of {figures.invited} invited onboarded and checked in",
        ),
        (
            "participation_rate",
            "Check-in participation",
            _ratio(figures.answered, figures.prompted),
            "share",
            limits.participation_rate,
            f"{figures.answered} of {figures.prompted} check-ins answered",
        ),
        (
            "attendance",
            "Session attendance",
            _ratio(attended, expected),
            "share",
            limits.attendance,
            f"{attended} of {expected} expected over {len(figures.sessions)} session(s)",
        ),
        (
            "satisfaction",
            "Satisfaction",
            _ratio(score, ratings),
            "score",
            limits.satisfaction,
            f"{ratings} rating(s) on a 5-point scale",
        ),
        (
            "feedback_per_participant",
            "Peer feedback",
            _ratio(volume, per_week),
            "rate",
            limits.feedback_per_participant,
            f"{figures.reviews_given} review(s) and {figures.kudos} kudos from "
            f"{figures.participants} active participant(s)",
        ),
        (
            "review_turnaround_days",
            "Review turnaround",
            sum(hours) / len(hours) / 24 if hours else None,
            "days",
            limits.review_turnaround_days,
            f"{figures.on_time} of {len(hours)} review(s) on time "
            f"({deadline_phrase(figures.allowed_hours, program.review.due_days)})",
        ),
        (
            "commitments_kept",
            "Commitments kept",
            _ratio(figures.commitments_kept, followed),
            "share",
            limits.commitments_kept,
            f"{figures.commitments_kept} kept of {followed} followed up; "
            f"{figures.commitments_made} made",
        ),
        (
            "skill_improvement",
            "Skill improvement",
            (post - pre) / pre if figures.assessed and pre else None,
            "share",
            limits.skill_improvement,
            f"post vs. pre self-assessment of {figures.assessed} participant(s)",
        ),
        (
            "meet_rate",
            "Pairs that met",
            _ratio(figures.groups_met, figures.groups_checked),
            "share",
            limits.meet_rate,
            f"{figures.groups_met} of {figures.groups_checked} group(s) met",
        ),
    ]
    return [
        Kpi(
            key=key,
            label=label,
            value=value,
            unit=unit,
            status=status_of(value, threshold),
            green=float(threshold.green),
            amber=float(threshold.amber),
            higher_is_better=threshold.higher_is_better,
            detail=detail,
        )
        for key, label, value, unit, threshold, detail in rows
    ]


def status_of(value: float | None, threshold: KpiThreshold) -> Status:
    """The traffic light of a value; no value yet is "no data", never red."""
    if value is None:
        return Status.NO_DATA
    return Status(threshold.status(value))
