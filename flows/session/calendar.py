"""The program's session calendar as iCalendar, served at `/cohorts/{key}/sessions.ics`.

Events carry the cohort's time zone (TZID with a VTIMEZONE), so calendar apps place a
15:00 Berlin session at 15:00 Berlin on both sides of a DST change. Holidays and
skipped weekends have no session; UIDs are stable, so re-importing updates, not doubles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from icalendar import Calendar, Event

from bot.config import AppConfig, ProgramConfig
from flows.common.availability import is_program_day
from storage.db import SessionFactory
from storage.models import Cohort
from storage.uow import unit_of_work


def session_days(cohort: Cohort, program: ProgramConfig) -> list[date]:
    """The program's session dates: the cadence weekday in each (every n-th) program week."""
    cadence = program.cadence.session
    if cadence is None or cohort.start_date is None:
        return []
    first = cohort.start_date + timedelta(days=(cadence.weekday - cohort.start_date.weekday()) % 7)
    end = cohort.start_date + timedelta(weeks=program.weeks)
    step = timedelta(weeks=program.cadence.every_weeks)
    days = []
    day = first
    while day < end:
        if is_program_day(program, day):
            days.append(day)
        day += step
    return days


def session_calendar(cohort: Cohort, program: ProgramConfig, *, now: datetime) -> bytes:
    """The cohort's sessions as an iCalendar file."""
    calendar = Calendar()
    calendar.add("prodid", "-//cohortbot//sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{cohort.name} sessions")
    zone = ZoneInfo(cohort.time_zone)
    cadence = program.cadence.session
    agenda = ", ".join(f"{item.name} {item.minutes} min" for item in program.agenda)
    for number, day in enumerate(session_days(cohort, program), start=1):
        if cadence is None:
            break
        starts = datetime.combine(day, cadence.time, tzinfo=zone)
        event = Event()
        event.add("uid", f"{cohort.key}-session-{day.isoformat()}@cohortbot")
        event.add("dtstamp", now)
        event.add("dtstart", starts)
        event.add("dtend", starts + timedelta(minutes=program.session_minutes))
        event.add("summary", f"{cohort.name}: session {number}")
        event.add("description", f"{program.name}. Agenda: {agenda}.")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    body: bytes = calendar.to_ical()
    return body


def calendar_url(config: AppConfig, cohort: Cohort) -> str:
    """Where people download the calendar: the public URL, else the listen address."""
    base = config.server.public_url or f"http://{config.server.host}:{config.server.port}"
    return f"{base.rstrip('/')}/cohorts/{cohort.key}/sessions.ics"


def add_calendar_routes(
    app: web.Application,
    *,
    sessions: SessionFactory,
    config: AppConfig,
    now: Callable[[], datetime],
) -> None:
    async def serve(request: web.Request) -> web.Response:
        key = request.match_info["cohort_key"].lower()
        async with unit_of_work(sessions) as uow:
            cohort = await uow.cohorts.by_key(key)
        program = config.programs.get(cohort.program) if cohort else None
        if cohort is None or program is None:
            raise web.HTTPNotFound(text=f"There is no cohort '{key}'.")
        body = session_calendar(cohort, program, now=now())
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{cohort.key}-sessions.ics"'},
        )

    app.router.add_get("/cohorts/{cohort_key}/sessions.ics", serve)
