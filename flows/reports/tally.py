"""Counting the activity log of one cohort into the raw figures behind every KPI.

Pure functions over `LoggedEvent`s: no database, no clock. A `Tally` holds sums and
counts, never ratios, so the tallies of several cohorts add up to a program's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from storage.repositories.kpis import LoggedEvent

VERBS = (
    "cohort.invited",
    "cohort.joined",
    "onboarding.completed",
    "assessment.pre",
    "assessment.post",
    "checkin.prompted",
    "checkin.answered",
    "checkin.missed",
    "session.started",
    "session.attended",
    "session.rated",
    "review.given",
    "review.completed",
    "kudos.given",
    "commitment.made",
    "commitment.kept",
    "commitment.not_kept",
    "pairing.meet_asked",
    "pairing.met",
    "participant.inactive",
    "participant.reactivated",
    "person.away",
    "person.back",
)
"""Every verb a KPI reads; nothing else is fetched."""

VERBS_WITH_DATA = (
    "assessment.pre",
    "assessment.post",
    "session.started",
    "session.rated",
    "review.given",
    "pairing.met",
    "person.away",
)
"""The verbs whose data a KPI reads; the others' data is not even decoded."""

MISSED_IN_A_ROW = 2
"""Check-ins or sessions missed in a row that put someone on the nudge list."""


@dataclass(frozen=True)
class Window:
    """[start, end): a program week, or everything before `end` when `start` is None."""

    start: datetime | None
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and moment < self.end


@dataclass(frozen=True)
class SessionTally:
    """One session: who attended out of the participants active when it started."""

    cohort_id: int
    session: str
    """The session's object reference, `session:<id>`."""
    number: int | None
    started_at: datetime
    attended: int
    expected: int


@dataclass(frozen=True)
class Laggard:
    """A participant who needs a nudge, and why."""

    cohort_id: int
    person_id: int
    missed_checkins: int
    missed_sessions: int
    inactive_since: datetime | None
    last_checkin: datetime | None


@dataclass
class Tally:
    """Raw figures for one window; `+` adds the tallies of two cohorts."""

    invited: int = 0
    engaged: int = 0
    reviewed: int = 0
    improved: int = 0
    participants: int = 0
    """Joined and not inactive at the end of the window."""
    weeks: int = 1
    prompted: int = 0
    answered: int = 0
    sessions: list[SessionTally] = field(default_factory=list)
    ratings: Counter[int] = field(default_factory=Counter)
    reviews_given: int = 0
    kudos: int = 0
    turnaround_hours: list[float] = field(default_factory=list)
    allowed_hours: list[float] = field(default_factory=list)
    """The time each review given had until its deadline."""
    on_time: int = 0
    commitments_made: int = 0
    commitments_kept: int = 0
    commitments_not_kept: int = 0
    assessed: int = 0
    """People with both a pre- and a post-assessment."""
    pre_sum: float = 0.0
    post_sum: float = 0.0
    groups_checked: int = 0
    groups_met: int = 0
    laggards: list[Laggard] = field(default_factory=list)

    def __add__(self, other: Tally) -> Tally:
        # Counts, sums, lists and counters all add up; only the weeks covered do not.
        added = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return Tally(**{**added, "weeks": max(self.weeks, other.weeks)})


def tally(
    events: Sequence[LoggedEvent], window: Window, *, cohort_id: int, weeks: int = 1
) -> Tally:
    """Count one cohort's events (oldest first) for a window.

    Week-bound figures (check-ins, sessions, ratings, reviews, kudos, commitments, "did
    you meet?") count what happened inside the window; the funnel, skill improvement and
    the nudge list count everything before its end. A check-in prompted, or a group asked
    "did you meet?", in the window counts as answered whenever the answer came.
    """
    before_end = [e for e in events if e.at < window.end]
    inside = [e for e in before_end if window.holds(e.at)]
    result = Tally(weeks=weeks)
    _funnel(result, before_end)
    _checkins(result, inside, events)
    calls = _roll_calls(before_end)
    _sessions(result, calls, window, cohort_id)
    _feedback(result, inside)
    _meetings(result, events, window)
    result.laggards = _laggards(before_end, calls, cohort_id)
    return result


def _people(events: Iterable[LoggedEvent], *verbs: str) -> set[int]:
    return {e.person_id for e in events if e.verb in verbs and e.person_id is not None}


def _average_ratings(data: dict[str, object]) -> dict[str, float]:
    return {
        skill: float(value)
        for skill, value in data.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _latest(events: Iterable[LoggedEvent], verb: str) -> dict[int, dict[str, float]]:
    """Each person's latest assessment of this kind (skill -> rating)."""
    found: dict[int, dict[str, float]] = {}
    for event in events:
        if event.verb == verb and event.person_id is not None:
            found[event.person_id] = _average_ratings(event.data)
    return found


def _funnel(result: Tally, events: Sequence[LoggedEvent]) -> None:
    invited = _people(events, "cohort.invited", "cohort.joined")
    onboarded = _people(events, "onboarding.completed")
    engaged = invited & onboarded & _people(events, "checkin.answered")
    got = {
        int(author)
        for e in events
        if e.verb == "review.given" and isinstance(author := e.data.get("author_id"), int)
    }
    reviewed = engaged & (_people(events, "review.given", "review.completed") | got)
    pre, post = _latest(events, "assessment.pre"), _latest(events, "assessment.post")
    improved: set[int] = set()
    for person_id in pre.keys() & post.keys():
        skills = pre[person_id].keys() & post[person_id].keys()
        if not skills:
            continue
        before = sum(pre[person_id][s] for s in skills) / len(skills)
        after = sum(post[person_id][s] for s in skills) / len(skills)
        result.assessed += 1
        result.pre_sum += before
        result.post_sum += after
        if after > before:
            improved.add(person_id)
    result.invited = len(invited)
    result.engaged = len(engaged)
    result.reviewed = len(reviewed)
    result.improved = len(reviewed & improved)
    joined = _people(events, "cohort.joined")
    result.participants = len(joined - _inactive_at_end(events))


def _inactive_at_end(events: Sequence[LoggedEvent]) -> set[int]:
    inactive: set[int] = set()
    for event in events:
        if event.person_id is None:
            continue
        if event.verb == "participant.inactive":
            inactive.add(event.person_id)
        elif event.verb == "participant.reactivated":
            inactive.discard(event.person_id)
    return inactive


def _checkins(result: Tally, inside: Sequence[LoggedEvent], every: Sequence[LoggedEvent]) -> None:
    prompted = {(e.person_id, e.object) for e in inside if e.verb == "checkin.prompted"}
    answered = {(e.person_id, e.object) for e in every if e.verb == "checkin.answered"}
    result.prompted = len(prompted)
    result.answered = len(prompted & answered)


@dataclass(frozen=True)
class _RollCall:
    """A session as it started: who was expected (joined, active, not away) and who came."""

    started: LoggedEvent
    expected: frozenset[int]
    came: frozenset[int]


def _roll_calls(events: Sequence[LoggedEvent]) -> list[_RollCall]:
    """Every session in the events, oldest first; only participants count as coming."""
    joined: set[int] = set()
    inactive: set[int] = set()
    away_until: dict[int, date] = {}
    started: list[tuple[LoggedEvent, frozenset[int]]] = []
    came: dict[str, set[int]] = {}
    for event in events:
        person = event.person_id
        if event.verb == "session.started" and event.object:
            day = event.at.date()
            away = {p for p, until in away_until.items() if until >= day}
            started.append((event, frozenset(joined - inactive - away)))
        elif person is None:
            continue
        elif event.verb == "cohort.joined":
            joined.add(person)
        elif event.verb == "participant.inactive":
            inactive.add(person)
        elif event.verb == "participant.reactivated":
            inactive.discard(person)
        elif event.verb == "person.away":
            until = event.data.get("until")
            if isinstance(until, str):
                away_until[person] = date.fromisoformat(until)
        elif event.verb == "person.back":
            away_until.pop(person, None)
    for event in events:
        if event.verb == "session.attended" and event.person_id in joined and event.object:
            came.setdefault(event.object, set()).add(event.person_id)
    return [
        _RollCall(event, expected, frozenset(came.get(event.object or "", set())))
        for event, expected in started
    ]


def _sessions(result: Tally, calls: Sequence[_RollCall], window: Window, cohort_id: int) -> None:
    """Attendance per session started in the window, against who was expected then."""
    for call in calls:
        if not window.holds(call.started.at):
            continue
        number = call.started.data.get("number")
        result.sessions.append(
            SessionTally(
                cohort_id=cohort_id,
                session=call.started.object or "",
                number=number if isinstance(number, int) else None,
                started_at=call.started.at,
                attended=len(call.came),
                expected=len(call.expected | call.came),
            )
        )


def _feedback(result: Tally, inside: Sequence[LoggedEvent]) -> None:
    for event in inside:
        if event.verb == "session.rated":
            rating = event.data.get("rating")
            if isinstance(rating, int) and 1 <= rating <= 5:
                result.ratings[rating] += 1
        elif event.verb == "review.given":
            result.reviews_given += 1
            hours = event.data.get("turnaround_hours")
            if isinstance(hours, int | float) and not isinstance(hours, bool):
                result.turnaround_hours.append(float(hours))
            allowed = event.data.get("allowed_hours")
            if isinstance(allowed, int | float) and not isinstance(allowed, bool):
                result.allowed_hours.append(float(allowed))
            result.on_time += event.data.get("on_time") is True
        elif event.verb == "kudos.given":
            result.kudos += 1
        elif event.verb == "commitment.made":
            result.commitments_made += 1
        elif event.verb == "commitment.kept":
            result.commitments_kept += 1
        elif event.verb == "commitment.not_kept":
            result.commitments_not_kept += 1


def _meetings(result: Tally, events: Sequence[LoggedEvent], window: Window) -> None:
    """Groups whose "did you meet?" first came up in the window; met when anyone said yes."""
    first: dict[str, datetime] = {}
    met: set[str] = set()
    for event in events:
        if event.verb not in ("pairing.meet_asked", "pairing.met") or not event.object:
            continue
        first.setdefault(event.object, event.at)
        if event.verb == "pairing.met" and event.data.get("met") is True:
            met.add(event.object)
    groups = {group for group, at in first.items() if window.holds(at)}
    result.groups_checked = len(groups)
    result.groups_met = len(groups & met)


def _laggards(
    events: Sequence[LoggedEvent], calls: Sequence[_RollCall], cohort_id: int
) -> list[Laggard]:
    """Who missed two check-ins or sessions in a row, or went inactive, as of the end."""
    joined: set[int] = set()
    inactive: dict[int, datetime] = {}
    outcomes: dict[tuple[int, str], bool | None] = {}
    """(person, round) -> answered, missed (False), or still open (None), in prompt order."""
    last_checkin: dict[int, datetime] = {}
    for event in events:
        person, obj = event.person_id, event.object or ""
        if person is None:
            continue
        if event.verb == "cohort.joined":
            joined.add(person)
        elif event.verb == "participant.inactive":
            inactive[person] = event.at
        elif event.verb == "participant.reactivated":
            inactive.pop(person, None)
        elif event.verb == "checkin.prompted":
            outcomes.setdefault((person, obj), None)
        elif event.verb == "checkin.answered":
            outcomes[(person, obj)] = True
            last_checkin[person] = event.at
        elif event.verb == "checkin.missed" and outcomes.get((person, obj)) is None:
            outcomes[(person, obj)] = False
    rounds: dict[int, list[bool | None]] = {}
    for (person, _round), outcome in outcomes.items():
        rounds.setdefault(person, []).append(outcome)
    found: list[Laggard] = []
    for person in sorted(joined):
        missed_checkins = _trailing_misses([o for o in rounds.get(person, []) if o is not None])
        missed_sessions = _trailing_misses(
            [person in call.came for call in calls if person in call.expected]
        )
        since = inactive.get(person)
        if since is None and max(missed_checkins, missed_sessions) < MISSED_IN_A_ROW:
            continue
        found.append(
            Laggard(
                cohort_id=cohort_id,
                person_id=person,
                missed_checkins=missed_checkins,
                missed_sessions=missed_sessions,
                inactive_since=since,
                last_checkin=last_checkin.get(person),
            )
        )
    return found


def _trailing_misses(outcomes: Sequence[bool]) -> int:
    count = 0
    for outcome in reversed(outcomes):
        if outcome:
            break
        count += 1
    return count
