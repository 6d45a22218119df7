"""A cohort's KPIs and raw activity log as JSON (one document) or CSV (two tables)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import ProgramConfig
from flows.reports.kpis import Kpi, KpiReport, cohort_overview
from storage.models import Cohort
from storage.uow import UnitOfWork

KPI_COLUMNS = (
    "cohort",
    "week",
    "window_start",
    "window_end",
    "kpi",
    "label",
    "value",
    "unit",
    "status",
    "green",
    "amber",
    "higher_is_better",
    "previous",
    "trend",
    "detail",
)
ACTIVITY_COLUMNS = ("id", "at", "verb", "person_id", "person", "object", "data")


@dataclass(frozen=True)
class Export:
    """Everything exported for one cohort: the report so far, each week's, the log."""

    cohort: Cohort
    so_far: KpiReport
    weeks: tuple[KpiReport, ...]
    activity: tuple[dict[str, Any], ...]


async def gather(
    uow: UnitOfWork, *, cohort: Cohort, program: ProgramConfig, now: datetime
) -> Export:
    so_far, weeks = await cohort_overview(uow, cohort=cohort, program=program, now=now)
    rows = [row async for row in uow.kpis.activity_log(cohort.id)]
    people = await uow.people.by_ids(sorted({r.person_id for r in rows if r.person_id}))
    activity = tuple(
        {
            "id": row.id,
            "at": _iso(row.at),
            "verb": row.verb,
            "person_id": row.person_id,
            "person": people[row.person_id].display_name if row.person_id in people else None,
            "object": row.object,
            "data": row.data,
        }
        for row in rows
    )
    return Export(cohort, so_far, weeks, activity)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def kpi_dict(kpi: Kpi) -> dict[str, Any]:
    return {
        "key": kpi.key,
        "label": kpi.label,
        "value": kpi.value,
        "unit": kpi.unit,
        "status": kpi.status.value,
        "green": kpi.green,
        "amber": kpi.amber,
        "higher_is_better": kpi.higher_is_better,
        "previous": kpi.previous,
        "trend": kpi.trend.value if kpi.trend else None,
        "detail": kpi.detail,
    }


def report_dict(report: KpiReport) -> dict[str, Any]:
    """A report as plain JSON values."""
    return {
        "scope": report.scope,
        "key": report.key,
        "name": report.name,
        "program": report.program,
        "week": report.week,
        "window": {"start": _iso(report.window.start), "end": _iso(report.window.end)},
        "generated_at": _iso(report.generated_at),
        "kpis": [kpi_dict(k) for k in report.kpis],
        "funnel": {
            "invited": report.funnel.invited,
            "engaged": report.funnel.engaged,
            "reviewed": report.funnel.reviewed,
            "improved": report.funnel.improved,
        },
        "sessions": [
            {
                "cohort": s.cohort,
                "number": s.number,
                "started_at": _iso(s.started_at),
                "attended": s.attended,
                "expected": s.expected,
                "rate": s.rate,
            }
            for s in report.sessions
        ],
        "satisfaction": {str(score): n for score, n in report.satisfaction.items()},
        "reviews_given": report.reviews_given,
        "reviews_on_time": report.reviews_on_time,
        "review_due_days": report.review_due_days,
        "kudos": report.kudos,
        "commitments": {
            "made": report.commitments_made,
            "kept": report.commitments_kept,
            "not_kept": report.commitments_not_kept,
        },
        "nudges": [
            {
                "cohort": n.cohort,
                "person_id": n.person_id,
                "name": n.name,
                "reasons": list(n.reasons),
                "last_checkin": _iso(n.last_checkin),
            }
            for n in report.nudges
        ],
    }


def to_json(export: Export) -> str:
    document = {
        "cohort": {
            "key": export.cohort.key,
            "name": export.cohort.name,
            "program": export.cohort.program,
            "time_zone": export.cohort.time_zone,
            "start_date": _iso_date(export.cohort),
        },
        "so_far": report_dict(export.so_far),
        "weeks": [report_dict(r) for r in export.weeks],
        "activity": list(export.activity),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _iso_date(cohort: Cohort) -> str | None:
    return cohort.start_date.isoformat() if cohort.start_date else None


def kpi_csv(export: Export) -> str:
    """One row per KPI per period: the program so far (week empty), then each week."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KPI_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for report in (export.so_far, *export.weeks):
        for kpi in report.kpis:
            row = kpi_dict(kpi)
            writer.writerow(
                {
                    "cohort": report.key,
                    "week": report.week if report.week is not None else "",
                    "window_start": _iso(report.window.start) or "",
                    "window_end": _iso(report.window.end),
                    "kpi": row.pop("key"),
                    **{k: "" if v is None else v for k, v in row.items()},
                }
            )
    return out.getvalue()


def activity_csv(export: Export) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ACTIVITY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in export.activity:
        writer.writerow(
            {
                **{k: "" if v is None else v for k, v in row.items()},
                "data": json.dumps(row["data"], ensure_ascii=False, sort_keys=True),
            }
        )
    return out.getvalue()
