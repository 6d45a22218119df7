"""A simulated program's KPI report, checked against counts read straight from its database.

The simulation runs the real bot; the report is the KPI module's. The expected figures
here are counted independently with plain SQL on the SQLite file the run leaves behind,
from the activity log and, where the flows keep their own rows, from those tables.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli.simulation.command import summary
from flows.reports.view import format_value
from tests.conftest import SimulatedProgram


@dataclass(frozen=True)
class Row:
    verb: str
    person: int | None
    object: str | None
    data: dict[str, Any]
    at: datetime


def read_log(db: Path) -> list[Row]:
    with sqlite3.connect(db) as connection:
        found = connection.execute(
            "SELECT verb, person_id, object, data, at FROM activity_log ORDER BY at, id"
        ).fetchall()
    return [
        Row(verb, person, obj, json.loads(data or "{}"), datetime.fromisoformat(at))
        for verb, person, obj, data, at in found
    ]


def groups_met(db: Path) -> dict[int, bool]:
    """Each matched group and whether anyone in it said they met, from match_groups."""
    with sqlite3.connect(db) as connection:
        found = connection.execute("SELECT id, met FROM match_groups").fetchall()
    return {group: any(json.loads(met or "{}").values()) for group, met in found}


def people(rows: list[Row], *verbs: str) -> set[int]:
    return {r.person for r in rows if r.verb in verbs and r.person is not None}


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def attendance(rows: list[Row]) -> tuple[int, int]:
    """(attended, expected) over every session: expected are joined, active, not away."""
    attended = expected = 0
    joined = people(rows, "cohort.joined")
    for start in (r for r in rows if r.verb == "session.started"):
        before = [r for r in rows if r.at < start.at]
        inactive: set[int] = set()
        away: set[int] = set()
        for r in before:
            if r.verb == "participant.inactive" and r.person is not None:
                inactive.add(r.person)
            if r.verb == "participant.reactivated":
                inactive.discard(r.person or 0)
            still_away = r.verb == "person.away" and (
                date.fromisoformat(r.data["until"]) >= start.at.date()
            )
            if still_away and r.person is not None:
                away.add(r.person)
            if r.verb == "person.back":
                away.discard(r.person or 0)
        came = {
            r.person
            for r in rows
            if r.verb == "session.attended" and r.object == start.object and r.person in joined
        }
        expected += len((people(before, "cohort.joined") - inactive - away) | came)
        attended += len(came)
    return attended, expected


def skill_change(rows: list[Row]) -> float | None:
    latest: dict[str, dict[int, dict[str, float]]] = {"assessment.pre": {}, "assessment.post": {}}
    for r in rows:
        if r.verb in latest and r.person is not None:
            latest[r.verb][r.person] = {k: float(v) for k, v in r.data.items()}
    pre_sum = post_sum = 0.0
    for person, post in latest["assessment.post"].items():
        pre = latest["assessment.pre"].get(person)
        skills = (pre or {}).keys() & post.keys()
        if pre and skills:
            pre_sum += sum(pre[s] for s in skills) / len(skills)
            post_sum += sum(post[s] for s in skills) / len(skills)
    return (post_sum - pre_sum) / pre_sum if pre_sum else None


def test_simulated_kpi_report_matches_counts_taken_straight_from_the_database(
    simulated_program: SimulatedProgram,
) -> None:
    db, outcome, settings = (
        simulated_program.db,
        simulated_program.outcome,
        simulated_program.settings,
    )
    report = outcome.report
    assert report is not None
    rows = read_log(db)

    invited = people(rows, "cohort.invited", "cohort.joined")
    engaged = invited & people(rows, "onboarding.completed") & people(rows, "checkin.answered")
    prompted = {(r.person, r.object) for r in rows if r.verb == "checkin.prompted"}
    answered = {(r.person, r.object) for r in rows if r.verb == "checkin.answered"}
    ratings = [r.data["rating"] for r in rows if r.verb == "session.rated"]
    reviews = [r for r in rows if r.verb == "review.given"]
    kudos = [r for r in rows if r.verb == "kudos.given"]
    kept = len([r for r in rows if r.verb == "commitment.kept"])
    not_kept = len([r for r in rows if r.verb == "commitment.not_kept"])
    inactive_now: set[int] = set()
    for r in rows:
        if r.verb == "participant.inactive" and r.person is not None:
            inactive_now.add(r.person)
        elif r.verb == "participant.reactivated":
            inactive_now.discard(r.person or 0)
    participants = len(people(rows, "cohort.joined") - inactive_now)
    end_day = outcome.ended.astimezone(ZoneInfo("Europe/Berlin")).date()
    weeks_so_far = (end_day - settings.start).days // 7 + 1
    asked = {
        int(r.object.removeprefix("match_group:"))
        for r in rows
        if r.verb in ("pairing.meet_asked", "pairing.met") and r.object
    }
    met = groups_met(db)
    came, expected_at_sessions = attendance(rows)
    hours = [float(r.data["turnaround_hours"]) for r in reviews]

    expected: dict[str, float | None] = {
        "engagement": ratio(len(engaged), len(invited)),
        "participation_rate": ratio(len(prompted & answered), len(prompted)),
        "attendance": ratio(came, expected_at_sessions),
        "satisfaction": statistics.fmean(ratings) if ratings else None,
        "feedback_per_participant": ratio(len(reviews) + len(kudos), participants * weeks_so_far),
        "review_turnaround_days": statistics.fmean(hours) / 24 if hours else None,
        "commitments_kept": ratio(kept, kept + not_kept),
        "skill_improvement": skill_change(rows),
        "meet_rate": ratio(len([g for g in asked if met.get(g)]), len(asked)),
    }
    # The run did enough for the figures to mean something.
    assert len(prompted) > 10
    assert expected_at_sessions > 10
    assert len(asked) >= 2
    assert len(reviews) >= 1
    for key, value in expected.items():
        figure = report.kpi(key).value
        assert figure == (pytest.approx(value) if value is not None else None), key
    assert report.funnel.invited == len(invited) == settings.participants
    assert report.funnel.engaged == len(engaged)

    printed = summary(outcome, settings)
    for kpi in report.kpis:
        assert f"{kpi.label} ({kpi.status.value}): {format_value(kpi, kpi.value)}" in printed
