"""The clock arithmetic of a session's agenda: item lengths, time left, when an item is due.

Pure functions over the session row and the program's script; the one channel message
showing the agenda is rendered in `view` from them, so it is the same whichever event
(a timer, a command, an "I'm here" click) caused the update.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import ProgramConfig
from storage.models import CohortSession


def item_length(program: ProgramConfig, index: int) -> timedelta:
    return timedelta(minutes=program.agenda[index].minutes)


def time_left(session: CohortSession, program: ProgramConfig, now: datetime) -> timedelta:
    """What is left of the current item; a paused clock stands still at the pause."""
    stopped_at = session.paused_at or now
    left = item_length(program, session.item) - (stopped_at - session.item_started_at)
    return max(left, timedelta(0))


def item_due(session: CohortSession, program: ProgramConfig) -> datetime:
    """When the current (running) item is over."""
    return session.item_started_at + item_length(program, session.item)
