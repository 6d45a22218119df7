"""The KPI report of a cohort or a program: figures, traffic lights, trends, who needs a nudge.

Every KPI comes from the activity log (see `flows.reports.tally`), per program week: week 1
is the week of the cohort's start date, in the cohort's time zone. A report covers one
week (with the week before for trends) or the whole program so far. The chat card, the
weekly digest, the dashboard and `cohortbot export` all render the same `KpiReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import ProgramConfig
from flows.common.availability import local_day, program_week
from flows.reports.deadlines import deadline_phrase
from flows.reports.measure import measure, status_of
from flows.reports.model import (
    Funnel,
    Kpi,
    KpiReport,
    Nudge,
    SessionAttendance,
    Status,
    Trend,
    Unit,
)
from flows.reports.tally import VERBS, VERBS_WITH_DATA, Laggard, SessionTally, Tally, Window, tally
from storage.models import Cohort
from storage.repositories.kpis import LoggedEvent
from storage.uow import UnitOfWork

__all__ = [
    "Funnel",
    "Kpi",
    "KpiReport",
    "Nudge",
    "ReportError",
    "SessionAttendance",
    "Status",
    "Trend",
    "Unit",
    "Window",
    "cohort_overview",
    "cohort_report",
    "cohort_series",
    "current_week",
    "measure",
    "program_overview",
    "program_report",
    "program_series",
    "status_of",
    "week_window",
]

_INSTANT = timedelta(microseconds=1)
"""A report made now includes what happened at this very moment."""


class ReportError(ValueError):
    """A report that cannot be made (unscheduled cohort, a week out of range)."""


def current_week(cohort: Cohort, now: datetime) -> int | None:
    """The cohort's program week now; None before its start or when it has no start date."""
    return program_week(cohort, local_day(now, cohort.time_zone))


def week_window(cohort: Cohort, week: int) -> Window:
    """Program week N in the cohort's time zone: seven days from 7(N-1) days after the start."""
    if cohort.start_date is None:
        raise ReportError(f"{cohort.name} has no start date yet, so it has no program weeks.")
    if week < 1:
        raise ReportError("Weeks count from 1, the week of the start date.")
    zone = ZoneInfo(cohort.time_zone)
    first = cohort.start_date + timedelta(days=7 * (week - 1))
    start = datetime.combine(first, time(), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=7), time(), tzinfo=zone)
    return Window(start, end)


def _windows(cohort: Cohort, week: int | None, now: datetime) -> tuple[Window, Window | None]:
    """The window of the week and of the week before (None for week 1 or a to-date report)."""
    if week is None:
        return Window(None, now + _INSTANT), None
    current = week_window(cohort, week)
    previous = week_window(cohort, week - 1) if week > 1 else None
    return current, previous


def _weeks_so_far(cohort: Cohort, now: datetime) -> int:
    return max(1, current_week(cohort, now) or 1)


Log = Sequence[LoggedEvent]
"""One cohort's events with the verbs the KPIs read, oldest first."""


async def _log(uow: UnitOfWork, cohort: Cohort, now: datetime) -> Log:
    return await uow.kpis.events(cohort.id, verbs=VERBS, until=now, with_data=VERBS_WITH_DATA)


def _tallies(
    events: Log, *, cohort: Cohort, week: int | None, now: datetime
) -> tuple[Tally, Tally | None, Window]:
    """This week's tally, last week's, and this week's window."""
    window, previous = _windows(cohort, week, now)
    weeks = 1 if week is not None else _weeks_so_far(cohort, now)
    this = tally(events, window, cohort_id=cohort.id, weeks=weeks)
    before = tally(events, previous, cohort_id=cohort.id) if previous else None
    return this, before, window


async def _cohort_week(
    uow: UnitOfWork,
    *,
    cohort: Cohort,
    program: ProgramConfig,
    events: Log,
    week: int | None,
    now: datetime,
) -> KpiReport:
    this, before, window = _tallies(events, cohort=cohort, week=week, now=now)
    return await _report(
        uow,
        scope="cohort",
        key=cohort.key,
        name=cohort.name,
        program_key=cohort.program,
        program=program,
        week=week,
        window=window,
        now=now,
        this=this,
        before=before,
        cohorts={cohort.id: cohort.key},
    )


async def _cohort_weeks(
    uow: UnitOfWork, *, cohort: Cohort, program: ProgramConfig, events: Log, now: datetime
) -> tuple[KpiReport, ...]:
    return tuple(
        [
            await _cohort_week(
                uow, cohort=cohort, program=program, events=events, week=week, now=now
            )
            for week in range(1, (current_week(cohort, now) or 0) + 1)
        ]
    )


async def cohort_report(
    uow: UnitOfWork, *, cohort: Cohort, program: ProgramConfig, week: int | None, now: datetime
) -> KpiReport:
    """The KPIs of one cohort for a program week (None: the whole program so far)."""
    events = await _log(uow, cohort, now)
    return await _cohort_week(
        uow, cohort=cohort, program=program, events=events, week=week, now=now
    )


async def cohort_series(
    uow: UnitOfWork, *, cohort: Cohort, program: ProgramConfig, now: datetime
) -> tuple[KpiReport, ...]:
    """One report per program week so far (week 1 first), from a single read of the log.

    Empty for a cohort without a start date or before it. Each week carries the week
    before as its trend, like `cohort_report`.
    """
    events = await _log(uow, cohort, now)
    return await _cohort_weeks(uow, cohort=cohort, program=program, events=events, now=now)


async def cohort_overview(
    uow: UnitOfWork, *, cohort: Cohort, program: ProgramConfig, now: datetime
) -> tuple[KpiReport, tuple[KpiReport, ...]]:
    """The program so far and every week so far, from a single read of the log."""
    events = await _log(uow, cohort, now)
    so_far = await _cohort_week(
        uow, cohort=cohort, program=program, events=events, week=None, now=now
    )
    weeks = await _cohort_weeks(uow, cohort=cohort, program=program, events=events, now=now)
    return so_far, weeks


async def program_report(
    uow: UnitOfWork, *, program_key: str, program: ProgramConfig, week: int | None, now: datetime
) -> KpiReport:
    """The KPIs of every scheduled cohort of a program, each in its own week N, added up."""
    cohorts = await uow.kpis.cohorts_of_program(program_key)
    if week is not None:
        cohorts = [c for c in cohorts if c.start_date is not None]
    logs = await _logs(uow, cohorts, now)
    return await _program_week(
        uow, program_key=program_key, program=program, week=week, now=now, logs=logs
    )


async def program_series(
    uow: UnitOfWork, *, program_key: str, program: ProgramConfig, now: datetime
) -> tuple[KpiReport, ...]:
    """One program report per program week begun in any cohort, from one read of each log."""
    cohorts = [c for c in await uow.kpis.cohorts_of_program(program_key) if c.start_date]
    logs = await _logs(uow, cohorts, now)
    return await _program_weeks(uow, program_key=program_key, program=program, logs=logs, now=now)


async def program_overview(
    uow: UnitOfWork, *, program_key: str, program: ProgramConfig, now: datetime
) -> tuple[KpiReport, tuple[KpiReport, ...]]:
    """The program so far (every cohort) and its weeks (scheduled cohorts), one read each."""
    logs = await _logs(uow, await uow.kpis.cohorts_of_program(program_key), now)
    so_far = await _program_week(
        uow, program_key=program_key, program=program, week=None, now=now, logs=logs
    )
    scheduled = [(cohort, events) for cohort, events in logs if cohort.start_date is not None]
    weeks = await _program_weeks(
        uow, program_key=program_key, program=program, logs=scheduled, now=now
    )
    return so_far, weeks


async def _logs(
    uow: UnitOfWork, cohorts: Sequence[Cohort], now: datetime
) -> list[tuple[Cohort, Log]]:
    return [(cohort, await _log(uow, cohort, now)) for cohort in cohorts]


async def _program_weeks(
    uow: UnitOfWork,
    *,
    program_key: str,
    program: ProgramConfig,
    logs: Sequence[tuple[Cohort, Log]],
    now: datetime,
) -> tuple[KpiReport, ...]:
    weeks = max((current_week(cohort, now) or 0 for cohort, _ in logs), default=0)
    return tuple(
        [
            await _program_week(
                uow, program_key=program_key, program=program, week=week, now=now, logs=logs
            )
            for week in range(1, weeks + 1)
        ]
    )


async def _program_week(
    uow: UnitOfWork,
    *,
    program_key: str,
    program: ProgramConfig,
    week: int | None,
    now: datetime,
    logs: Sequence[tuple[Cohort, Log]],
) -> KpiReport:
    this, before = Tally(), Tally() if week is not None and week > 1 else None
    window = Window(None, now + _INSTANT)
    for cohort, events in logs:
        mine, previous, own_window = _tallies(events, cohort=cohort, week=week, now=now)
        this = this + mine
        if before is not None and previous is not None:
            before = before + previous
        window = _union(window, own_window) if week is not None else window
    return await _report(
        uow,
        scope="program",
        key=program_key,
        name=program.name,
        program_key=program_key,
        program=program,
        week=week,
        window=window,
        now=now,
        this=this,
        before=before,
        cohorts={c.id: c.key for c, _ in logs},
    )


def _union(first: Window, second: Window) -> Window:
    """The span of cohorts' week windows; a fresh `Window(None, now)` is replaced."""
    if first.start is None:
        return second
    assert second.start is not None  # week windows always start
    return Window(min(first.start, second.start), max(first.end, second.end))


async def _report(
    uow: UnitOfWork,
    *,
    scope: Literal["cohort", "program"],
    key: str,
    name: str,
    program_key: str,
    program: ProgramConfig,
    week: int | None,
    window: Window,
    now: datetime,
    this: Tally,
    before: Tally | None,
    cohorts: dict[int, str],
) -> KpiReport:
    earlier = {k.key: k.value for k in measure(before, program)} if before else {}
    kpis = tuple(replace(k, previous=earlier.get(k.key)) for k in measure(this, program))
    return KpiReport(
        scope=scope,
        key=key,
        name=name,
        program=program_key,
        week=week,
        window=window,
        generated_at=now,
        kpis=kpis,
        funnel=Funnel(this.invited, this.engaged, this.reviewed, this.improved),
        sessions=tuple(_attendance(s, cohorts) for s in this.sessions),
        satisfaction={score: this.ratings.get(score, 0) for score in range(1, 6)},
        reviews_given=this.reviews_given,
        kudos=this.kudos,
        reviews_on_time=this.on_time,
        review_due_days=program.review.due_days,
        review_deadline=deadline_phrase(this.allowed_hours, program.review.due_days),
        commitments_made=this.commitments_made,
        commitments_kept=this.commitments_kept,
        commitments_not_kept=this.commitments_not_kept,
        nudges=await _nudges(uow, this.laggards, cohorts),
    )


def _attendance(session: SessionTally, cohorts: dict[int, str]) -> SessionAttendance:
    return SessionAttendance(
        cohort=cohorts.get(session.cohort_id, ""),
        number=session.number,
        started_at=session.started_at,
        attended=session.attended,
        expected=session.expected,
    )


async def _nudges(
    uow: UnitOfWork, laggards: Sequence[Laggard], cohorts: dict[int, str]
) -> tuple[Nudge, ...]:
    people = await uow.people.by_ids(sorted({lag.person_id for lag in laggards}))
    found = [
        Nudge(
            cohort=cohorts.get(lag.cohort_id, ""),
            person_id=lag.person_id,
            name=people[lag.person_id].display_name if lag.person_id in people else "someone",
            missed_checkins=lag.missed_checkins,
            missed_sessions=lag.missed_sessions,
            inactive_since=lag.inactive_since,
            last_checkin=lag.last_checkin,
        )
        for lag in laggards
    ]
    return tuple(sorted(found, key=lambda n: (n.cohort, n.name.lower(), n.person_id)))
