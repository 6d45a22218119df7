"""Activity-log entries as xAPI 1.0.3 statements: verb, actor, object, context.

Pure functions over an entry, its person and its cohort. The statement id is a uuid5 of
the entry's id in this installation's namespace, so the same entry always becomes the
same statement, and a resend is a duplicate the LRS recognises, never a second record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal
from urllib.parse import quote

from bot.config import ProgramConfig
from storage.models import Activity, Cohort, Person

ADL = "http://adlnet.gov/expapi"
TINCAN = "http://id.tincanapi.com"
ACTIVITY_STREAMS = "http://activitystrea.ms/schema/1.0"


@dataclass(frozen=True)
class Verb:
    iri: str
    display: str


VERBS: Mapping[str, Verb] = {
    "cohort.joined": Verb(f"{ACTIVITY_STREAMS}/join", "joined"),
    "onboarding.completed": Verb(f"{ADL}/verbs/completed", "completed"),
    "checkin.answered": Verb(f"{ADL}/verbs/answered", "answered"),
    "session.attended": Verb(f"{ADL}/verbs/attended", "attended"),
    "review.given": Verb(f"{TINCAN}/verb/reviewed", "reviewed"),
    "badge.awarded": Verb(f"{TINCAN}/verb/earned", "earned"),
    "program.completed": Verb(f"{ADL}/verbs/completed", "completed"),
}
"""Activity-log verb -> xAPI verb. Only these entries become statements."""

MAPPED_VERBS = frozenset(VERBS)

ACTIVITY_TYPES = {
    "program": f"{ADL}/activities/course",
    "cohort": f"{ACTIVITY_STREAMS}/group",
    "onboarding": f"{TINCAN}/activitytype/survey",
    "checkin": f"{ADL}/activities/interaction",
    "session": f"{ADL}/activities/meeting",
    "review": f"{TINCAN}/activitytype/review",
    "badge": f"{ACTIVITY_STREAMS}/badge",
}
COMPLETIONS = frozenset({"onboarding.completed", "program.completed"})
BADGE_KEYS = ("badge", "badge_id", "id")
"""Where a `badge.awarded` entry may name its badge when its object does not."""
REVIEW_KEYS = ("review_id", "assignment_id", "request_id")
LANGUAGE = "en-US"
PLATFORM = "cohortbot"

ActorMode = Literal["account", "email"]


@dataclass(frozen=True)
class Vocabulary:
    """What every statement of one installation shares."""

    base_url: str
    """The bot's public URL without a trailing slash; activity ids live under it."""
    namespace: uuid.UUID
    """This installation's uuid5 namespace for statement ids and pseudonyms."""
    home_page: str
    """The homePage of pseudonymous accounts."""
    actor_mode: ActorMode
    programs: Mapping[str, ProgramConfig]

    def statement_id(self, activity_id: int) -> str:
        return str(uuid.uuid5(self.namespace, str(activity_id)))

    def pseudonym(self, person_id: int) -> str:
        """A stable id for a person that says nothing about them outside this bot."""
        return str(uuid.uuid5(self.namespace, f"person:{person_id}"))

    def registration(self, cohort: Cohort, person_id: int) -> str:
        """One registration per person and cohort, grouping their statements in the LRS."""
        return str(uuid.uuid5(self.namespace, f"registration:{cohort.key}:{person_id}"))


def build_statement(
    entry: Activity, *, person: Person, cohort: Cohort, vocabulary: Vocabulary
) -> dict[str, Any]:
    """The statement for a mapped entry (its verb in VERBS, with a person and a cohort)."""
    verb = VERBS[entry.verb]
    program = _program_activity(cohort, vocabulary)
    cohort_activity = _cohort_activity(cohort, vocabulary)
    target = _object(entry, cohort, vocabulary, program=program, cohort_activity=cohort_activity)
    parents = [] if target["id"] in (cohort_activity["id"], program["id"]) else [cohort_activity]
    context_activities: dict[str, Any] = {"grouping": [program]}
    if target["id"] == program["id"]:
        context_activities = {"other": [cohort_activity]}
    elif parents:
        context_activities["parent"] = parents
    statement: dict[str, Any] = {
        "id": vocabulary.statement_id(entry.id),
        "actor": _actor(person, vocabulary),
        "verb": {"id": verb.iri, "display": {LANGUAGE: verb.display}},
        "object": target,
        "timestamp": entry.at.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "context": {
            "registration": vocabulary.registration(cohort, person.id),
            "platform": PLATFORM,
            "language": LANGUAGE,
            "contextActivities": context_activities,
        },
    }
    if entry.verb in COMPLETIONS:
        statement["result"] = {"completion": True}
    return statement


def _actor(person: Person, vocabulary: Vocabulary) -> dict[str, Any]:
    if vocabulary.actor_mode == "email" and person.email:
        return {
            "objectType": "Agent",
            "mbox": f"mailto:{person.email}",
            "name": person.display_name,
        }
    # No name either: the account is pseudonymous.
    return {
        "objectType": "Agent",
        "account": {"homePage": vocabulary.home_page, "name": vocabulary.pseudonym(person.id)},
    }


def _activity(iri: str, kind: str, name: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {"type": ACTIVITY_TYPES[kind], "name": {LANGUAGE: name}},
    }


def _program_activity(cohort: Cohort, vocabulary: Vocabulary) -> dict[str, Any]:
    program = vocabulary.programs.get(cohort.program)
    name = program.name if program else cohort.program
    return _activity(f"{vocabulary.base_url}/programs/{cohort.program}", "program", name)


def _cohort_activity(cohort: Cohort, vocabulary: Vocabulary) -> dict[str, Any]:
    return _activity(f"{vocabulary.base_url}/cohorts/{cohort.key}", "cohort", cohort.name)


def _object(
    entry: Activity,
    cohort: Cohort,
    vocabulary: Vocabulary,
    *,
    program: dict[str, Any],
    cohort_activity: dict[str, Any],
) -> dict[str, Any]:
    base = cohort_activity["id"]
    ref = _ref_value(entry.object)
    if entry.verb == "cohort.joined":
        return cohort_activity
    if entry.verb == "program.completed":
        return program
    if entry.verb == "onboarding.completed":
        return _activity(f"{base}/onboarding", "onboarding", f"Onboarding, {cohort.name}")
    if entry.verb == "checkin.answered":
        number = entry.data.get("number")
        name = f"Check-in {number}, {cohort.name}" if number else f"Check-in, {cohort.name}"
        return _activity(f"{base}/checkins/{ref or entry.id}", "checkin", name)
    if entry.verb == "session.attended":
        return _activity(f"{base}/sessions/{ref or entry.id}", "session", f"Session, {cohort.name}")
    if entry.verb == "review.given":
        review = ref or _first(entry.data, REVIEW_KEYS) or str(entry.id)
        return _activity(f"{base}/reviews/{review}", "review", f"Peer review, {cohort.name}")
    if entry.verb == "badge.awarded":
        badge = ref or _first(entry.data, BADGE_KEYS) or f"award-{entry.id}"
        config = vocabulary.programs.get(cohort.program)
        names = {b.id: b.name for b in config.badges} if config else {}
        iri = f"{vocabulary.base_url}/programs/{cohort.program}/badges/{badge}"
        return _activity(iri, "badge", names.get(badge, badge))
    raise ValueError(f"activity verb {entry.verb!r} has no statement")


def _ref_value(object_ref: str | None) -> str | None:
    """`session:12` -> `12`; the log names objects as kind:id."""
    if not object_ref:
        return None
    return _segment(object_ref.rpartition(":")[2])


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if data.get(key) not in (None, ""):
            return _segment(str(data[key]))
    return None


def _segment(value: str) -> str | None:
    """A value made safe as one IRI path segment."""
    return quote(value, safe="") or None
