"""The badge rules: who has earned what, judged from the activity log alone.

A program's badge names a rule and a threshold in app.yaml. Every rule reads one verb of
the cohort's activity log, so any flow that logs that verb feeds it:

- `first_checkin` (`checkin.answered`): answered `threshold` weekly check-ins (default 1).
- `checkin_streak` (`checkin.answered`): answered `threshold` consecutive weekly rounds (4).
- `reviews_given` (`review.given`): gave `threshold` reviews, one per assignment (1).
- `review_usefulness_avg` (`review.rated`, earned by the reviewer named in the data):
  authors rated the reviews the person gave `threshold` or more on average (4.5), over
  at least `recognition.helpful_min_ratings` ratings (2); a re-rating replaces the first.
- `sessions_hosted` (`session.started`, person = facilitator): hosted `threshold` (1).
- `program_completed` (`program.completed`): completed the program.

A streak counts the cohort's weekly rounds by their number (`data.number` of
`checkin.answered`): rounds 3, 4, 5 and 6 answered is a four-week streak; a week the
cohort held no round (a holiday) does not break it; a round the person missed does.
A badge whose rule is `manual` (or any name not above) is only awarded by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.config import BadgeConfig, RecognitionConfig
from storage.repositories.badges import LoggedFact
from storage.uow import UnitOfWork

MANUAL_RULE = "manual"

Judge = Callable[[list[LoggedFact], float, RecognitionConfig], set[int]]


@dataclass(frozen=True)
class CountRule:
    """Earned at `threshold` distinct logged objects of one verb by the person."""

    verb: str
    default_threshold: float

    async def earners(
        self,
        uow: UnitOfWork,
        *,
        cohort_id: int,
        threshold: float,
        settings: RecognitionConfig,
    ) -> set[int]:
        counts = await uow.badges.counts_by_person(cohort_id=cohort_id, verb=self.verb)
        return {person_id for person_id, count in counts.items() if count >= threshold}


@dataclass(frozen=True)
class RowsRule:
    """Earned by a judgement over the verb's rows (streaks, averages)."""

    verb: str
    default_threshold: float
    judge: Judge

    async def earners(
        self,
        uow: UnitOfWork,
        *,
        cohort_id: int,
        threshold: float,
        settings: RecognitionConfig,
    ) -> set[int]:
        rows = await uow.badges.facts(cohort_id=cohort_id, verb=self.verb)
        return self.judge(rows, threshold, settings)


Rule = CountRule | RowsRule


def longest_streak(numbers: Iterable[int]) -> int:
    """The longest run of consecutive round numbers."""
    ordered = sorted(set(numbers))
    best = run = 0
    previous: int | None = None
    for number in ordered:
        run = run + 1 if previous is not None and number == previous + 1 else 1
        best = max(best, run)
        previous = number
    return best


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _streaks(rows: list[LoggedFact], threshold: float, _settings: RecognitionConfig) -> set[int]:
    rounds: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        number = _int(row.data.get("number"))
        if row.person_id is not None and number is not None:
            rounds[row.person_id].add(number)
    return {person_id for person_id, seen in rounds.items() if longest_streak(seen) >= threshold}


def _reviews_given(
    rows: list[LoggedFact], threshold: float, _settings: RecognitionConfig
) -> set[int]:
    given: dict[int, set[str]] = defaultdict(set)
    for index, row in enumerate(rows):
        if row.person_id is None:
            continue
        assignment = row.data.get("assignment_id")
        # One review per assignment: a re-logged submission must not count twice.
        given[row.person_id].add(f"a:{assignment}" if assignment is not None else f"row:{index}")
    return {person_id for person_id, seen in given.items() if len(seen) >= threshold}


def _helpful(rows: list[LoggedFact], threshold: float, settings: RecognitionConfig) -> set[int]:
    latest: dict[int, dict[str, int]] = defaultdict(dict)
    for index, row in enumerate(rows):
        reviewer = _int(row.data.get("reviewer_id"))
        usefulness = _int(row.data.get("usefulness"))
        if reviewer is None or usefulness is None or not 1 <= usefulness <= 5:
            continue
        assignment = row.data.get("assignment_id")
        key = f"a:{assignment}" if assignment is not None else f"row:{index}"
        latest[reviewer][key] = usefulness  # rows come oldest first: a re-rating wins
    return {
        reviewer
        for reviewer, ratings in latest.items()
        if len(ratings) >= settings.helpful_min_ratings
        and sum(ratings.values()) / len(ratings) >= threshold
    }


RULES: dict[str, Rule] = {
    "first_checkin": CountRule("checkin.answered", 1),
    "checkin_streak": RowsRule("checkin.answered", 4, _streaks),
    "reviews_given": RowsRule("review.given", 1, _reviews_given),
    "review_usefulness_avg": RowsRule("review.rated", 4.5, _helpful),
    "sessions_hosted": CountRule("session.started", 1),
    "program_completed": CountRule("program.completed", 1),
}
VERBS = frozenset(rule.verb for rule in RULES.values())
"""Every verb some rule reads."""


def rule_of(badge: BadgeConfig) -> Rule | None:
    """The rule that awards the badge, or None for a badge awarded only by hand."""
    return RULES.get(badge.rule)


async def earned(
    uow: UnitOfWork,
    *,
    cohort_id: int,
    badges: list[BadgeConfig],
    settings: RecognitionConfig,
) -> set[tuple[int, str]]:
    """(person id, badge id) for every rule badge earned in the cohort."""
    found: set[tuple[int, str]] = set()
    for badge in badges:
        rule = rule_of(badge)
        if rule is None:
            continue
        given = badge.threshold
        threshold = float(given if given is not None else rule.default_threshold)
        for person_id in await rule.earners(
            uow, cohort_id=cohort_id, threshold=threshold, settings=settings
        ):
            found.add((person_id, badge.id))
    return found
