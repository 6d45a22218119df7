"""What a cohort achieved, counted from the activity log, for the celebration post.

Counted per cohort: check-ins shared (`checkin.answered`), sessions held
(`session.started`), peer reviews given (`review.given`), commitments kept
(`commitment.kept`) of those made (`commitment.made`), badges awarded
(`badge.awarded`), completions (`program.completed`), and the average self-rating
before (`assessment.pre`) and after (`assessment.post`) among those who answered both.
The celebration post that shows them is `flows.finale.view.celebration_message`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.config import ProgramConfig
from storage.models import Activity, Cohort
from storage.uow import UnitOfWork

COUNTED = (
    "checkin.answered",
    "session.started",
    "review.given",
    "commitment.made",
    "commitment.kept",
    "badge.awarded",
    "program.completed",
)
BADGE_PREFIX = "badge:"
"""A `badge.awarded` entry names its badge in its object: `badge:<badge id>`."""


@dataclass(frozen=True)
class SkillChange:
    """Average self-rating before and after, over the people who answered both."""

    people: int
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def relative(self) -> float:
        return self.change / self.before if self.before else 0.0


@dataclass(frozen=True)
class Achievements:
    participants: int
    counts: dict[str, int]
    badges: dict[str, int]
    """Badge name -> how many were awarded."""
    skills: SkillChange | None


def _latest_by_person(rows: list[Activity]) -> dict[int, dict[str, Any]]:
    """Each person's latest assessment (a retaken one replaces the earlier)."""
    return {row.person_id: dict(row.data) for row in rows if row.person_id is not None}


def _mean(ratings: dict[str, Any]) -> float | None:
    values = [v for v in ratings.values() if isinstance(v, int | float)]
    return sum(values) / len(values) if values else None


def skill_change(pre: list[Activity], post: list[Activity]) -> SkillChange | None:
    """Pre and post averages over the skills each person rated both times."""
    before_all, after_all = _latest_by_person(pre), _latest_by_person(post)
    befores: list[float] = []
    afters: list[float] = []
    for person_id, after in after_all.items():
        before = before_all.get(person_id)
        if before is None:
            continue
        shared = [skill for skill in after if skill in before]
        mean_before = _mean({s: before[s] for s in shared})
        mean_after = _mean({s: after[s] for s in shared})
        if mean_before is None or mean_after is None:
            continue
        befores.append(mean_before)
        afters.append(mean_after)
    if not befores:
        return None
    return SkillChange(
        people=len(befores), before=sum(befores) / len(befores), after=sum(afters) / len(afters)
    )


def _badge_name(row: Activity, names: dict[str, str]) -> str:
    badge = (row.object or "").removeprefix(BADGE_PREFIX)
    return names.get(badge, badge) if badge else "badge"


async def achievements(uow: UnitOfWork, cohort: Cohort, program: ProgramConfig) -> Achievements:
    counts = await uow.activity.counts(cohort_id=cohort.id, verbs=COUNTED)
    names = {badge.id: badge.name for badge in program.badges}
    awarded = await uow.activity.of_cohort(cohort_id=cohort.id, verb="badge.awarded")
    badges = Counter(_badge_name(row, names) for row in awarded)
    pre = await uow.activity.of_cohort(cohort_id=cohort.id, verb="assessment.pre")
    post = await uow.activity.of_cohort(cohort_id=cohort.id, verb="assessment.post")
    return Achievements(
        participants=len(await uow.participation.participants(cohort.id)),
        counts=counts,
        badges=dict(sorted(badges.items(), key=lambda item: (-item[1], item[0]))),
        skills=skill_change(pre, post),
    )
