"""What a KPI report holds: the figures, their traffic lights and trends, who needs a nudge.

Plain frozen dataclasses, rendered alike by the chat card, the weekly digest, the
dashboard and `cohortbot export`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from flows.reports.tally import Window

Unit = Literal["share", "score", "days", "rate"]


class Status(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_DATA = "no data"


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


@dataclass(frozen=True)
class Kpi:
    """One measured figure with its traffic light and last week's value."""

    key: str
    """The name of its threshold in `programs.<program>.kpis`."""
    label: str
    value: float | None
    """None: no data yet in this window."""
    unit: Unit
    status: Status
    green: float
    amber: float
    higher_is_better: bool
    detail: str
    """The counts behind the figure, e.g. `9 of 12 prompts answered`."""
    previous: float | None = None

    @property
    def trend(self) -> Trend | None:
        if self.value is None or self.previous is None:
            return None
        if abs(self.value - self.previous) < 1e-9:
            return Trend.FLAT
        return Trend.UP if self.value > self.previous else Trend.DOWN


@dataclass(frozen=True)
class Funnel:
    """Invited, engaged (onboarded and checked in), reviewed, improved: each within the last."""

    invited: int
    engaged: int
    reviewed: int
    improved: int


@dataclass(frozen=True)
class SessionAttendance:
    cohort: str
    number: int | None
    started_at: datetime
    attended: int
    expected: int

    @property
    def rate(self) -> float | None:
        return self.attended / self.expected if self.expected else None


@dataclass(frozen=True)
class Nudge:
    """A participant who missed two check-ins or sessions in a row, or went inactive."""

    cohort: str
    person_id: int
    name: str
    missed_checkins: int
    missed_sessions: int
    inactive_since: datetime | None
    last_checkin: datetime | None

    @property
    def reasons(self) -> tuple[str, ...]:
        found = []
        if self.inactive_since is not None:
            found.append(f"inactive since {self.inactive_since:%d %b}")
        if self.missed_checkins >= 2:
            found.append(f"missed the last {self.missed_checkins} check-ins")
        if self.missed_sessions >= 2:
            found.append(f"missed the last {self.missed_sessions} sessions")
        return tuple(found)


@dataclass(frozen=True)
class KpiReport:
    """What the card, the digest, the dashboard and the export show."""

    scope: Literal["cohort", "program"]
    key: str
    """The cohort key, or the program key."""
    name: str
    program: str
    week: int | None
    """The program week covered; None: the whole program so far."""
    window: Window
    generated_at: datetime
    kpis: tuple[Kpi, ...]
    funnel: Funnel
    sessions: tuple[SessionAttendance, ...]
    satisfaction: dict[int, int]
    """How many ratings of 1, 2, 3, 4 and 5."""
    reviews_given: int
    kudos: int
    reviews_on_time: int
    review_due_days: int
    """The program's default deadline; a request's `--due` may set another."""
    review_deadline: str
    """The deadlines the reviews given really had, in words (`due in 3 days`)."""
    commitments_made: int
    commitments_kept: int
    commitments_not_kept: int
    nudges: tuple[Nudge, ...]

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)
