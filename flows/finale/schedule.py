"""When a cohort's finale happens: the last program day of its last week.

The program's last calendar day is `start_date + 7 * weeks - 1`; when the program does
not run that day (a holiday, a skipped weekend), the finale moves back to the last day
it does, so it still falls inside the program.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import ProgramConfig
from flows.common.availability import is_program_day
from storage.models import Cohort


def last_program_day(program: ProgramConfig, start: date) -> date:
    """The last day of the program's final week that the program runs on."""
    last = start + timedelta(days=7 * program.weeks - 1)
    day = last
    while day >= start:
        if is_program_day(program, day):
            return day
        day -= timedelta(days=1)
    return last


def finale_at(cohort: Cohort, program: ProgramConfig) -> datetime | None:
    """The moment the finale starts, in the cohort's time zone; None without a start date."""
    if cohort.start_date is None:
        return None
    day = last_program_day(program, cohort.start_date)
    return datetime.combine(day, program.finale.at, tzinfo=ZoneInfo(cohort.time_zone))
