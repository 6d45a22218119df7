"""Recurrence rules as data, with APScheduler's triggers doing the calendar arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger

_TINY = timedelta(microseconds=1)


def weekly(
    *, day_of_week: str, hour: int, minute: int, every_weeks: int = 1, start: date | None = None
) -> dict[str, Any]:
    """A weekly (or every n weeks) rule at a wall-clock time, stored as JSON."""
    rule: dict[str, Any] = {
        "kind": "weekly",
        "day_of_week": day_of_week,
        "hour": hour,
        "minute": minute,
        "every_weeks": every_weeks,
    }
    if every_weeks > 1:
        if start is None:
            raise ValueError("a rule repeating every few weeks needs a start date")
        rule["start"] = start.isoformat()
    return rule


def every(*, minutes: int) -> dict[str, Any]:
    """A rule repeating at a fixed interval, counted from each occurrence."""
    if minutes < 1:
        raise ValueError("an interval rule needs at least one minute")
    return {"kind": "every", "minutes": minutes}


def next_after(rule: dict[str, Any], time_zone: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after`, in wall-clock time of `time_zone`.

    Wall-clock rules stay right across DST: 09:00 Berlin is 08:00 UTC in winter
    and 07:00 UTC in summer.
    """
    if rule["kind"] == "every":
        return after + timedelta(minutes=int(rule["minutes"]))
    zone = ZoneInfo(time_zone)
    if rule["kind"] == "cron":
        cron = CronTrigger(timezone=zone, **rule["fields"])
        found: datetime | None = cron.get_next_fire_time(None, after + _TINY)
        return found
    if rule["kind"] != "weekly":
        raise ValueError(f"unknown recurrence kind {rule['kind']!r}")
    every = int(rule.get("every_weeks", 1))
    if every == 1:
        cron = CronTrigger(
            day_of_week=rule["day_of_week"], hour=rule["hour"], minute=rule["minute"], timezone=zone
        )
        weekly_next: datetime | None = cron.get_next_fire_time(None, after + _TINY)
        return weekly_next
    start = date.fromisoformat(rule["start"])
    first = CronTrigger(
        day_of_week=rule["day_of_week"], hour=rule["hour"], minute=rule["minute"], timezone=zone
    ).get_next_fire_time(None, datetime(start.year, start.month, start.day, tzinfo=zone))
    if first is None:
        return None
    interval = CalendarIntervalTrigger(
        weeks=every,
        hour=rule["hour"],
        minute=rule["minute"],
        start_date=first.date(),
        timezone=zone,
    )
    moment: datetime | None = interval.get_next_fire_time(None, first)
    while moment is not None and moment <= after:
        moment = interval.get_next_fire_time(moment, moment)
    return moment
