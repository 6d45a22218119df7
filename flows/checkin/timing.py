"""When a round's nudges and close fall: counted in program days, never on a day off.

"Close after 48 hours" means 48 hours of days the program runs on. Each holiday or
skipped weekend day the span crosses or ends on adds one day (same wall-clock time),
so a round opened on Friday morning is nudged on Monday and closes on Tuesday, and a
close that would come on a holiday moves past it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import ProgramConfig
from flows.common.availability import is_program_day


def after_program_hours(
    program: ProgramConfig, start: datetime, hours: int, time_zone: str
) -> datetime:
    """`hours` after `start`, moved on by a day for every day off up to the end (in `time_zone`)."""
    zone = ZoneInfo(time_zone)
    end = (start + timedelta(hours=hours)).astimezone(zone)
    day = start.astimezone(zone).date()
    while day < end.date():
        day += timedelta(days=1)
        if not is_program_day(program, day):
            # Wall-clock arithmetic in the zone: the same local time a day later.
            end = (end.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return end.astimezone(UTC)
