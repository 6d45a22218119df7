"""Who meets whom: pairs or triads scored for complementarity, time zones and novelty.

A pure function over profiles and history, so it is tested without any platform. Pairs
come from networkx's maximum weight matching; an odd person out joins the group that
suits them best, so nobody is silently left out. Triads are pairs of peers with a
mentor each, mentors balanced by load and rotated away from groups they had before.
The same inputs and seed always give the same groups.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import networkx as nx

WORKDAY = range(9, 18)
"""Local hours in which people can usually meet."""
REPEAT_PENALTY = 1000.0
"""Meeting someone again before meeting everyone else is (almost) never worth it."""
SPARSE_ABOVE = 64
"""Cohorts larger than this are first matched over each person's best partners only."""
BEST_PARTNERS = 12


@dataclass(frozen=True)
class Candidate:
    """A participant as matching sees them."""

    id: int
    name: str
    strengths: frozenset[str] = frozenset()
    gaps: frozenset[str] = frozenset()
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]
    mentor: int | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """Who has met whom, and which mentor each person has had, in earlier cycles."""

    met: frozenset[frozenset[int]] = frozenset()
    mentored: frozenset[tuple[int, int]] = frozenset()
    """(mentor, participant) pairs from earlier groups."""

    @classmethod
    def of(cls, groups: Iterable[Group]) -> History:
        met: set[frozenset[int]] = set()
        mentored: set[tuple[int, int]] = set()
        for group in groups:
            members = sorted(group.members)
            met.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
            if group.mentor is not None:
                mentored.update((group.mentor, member) for member in members)
        return cls(frozenset(met), frozenset(mentored))


@dataclass
class Scorer:
    people: dict[int, Candidate]
    history: History
    on: datetime = field(default_factory=lambda: datetime(2026, 1, 5, tzinfo=UTC))
    """The day whose UTC offsets decide time-zone overlap (DST matters)."""

    def __post_init__(self) -> None:
        self._unmet = {
            pid: {other for other in self.people if other != pid and not self.has_met(pid, other)}
            for pid in self.people
        }

    def has_met(self, a: int, b: int) -> bool:
        return frozenset((a, b)) in self.history.met

    def complementarity(self, a: Candidate, b: Candidate) -> set[str]:
        return set(a.strengths & b.gaps) | set(b.strengths & a.gaps)

    def overlap_hours(self, a: Candidate, b: Candidate) -> int:
        return len(self._utc_hours(a) & self._utc_hours(b))

    def _utc_hours(self, person: Candidate) -> set[int]:
        offset = self.on.astimezone(ZoneInfo(person.time_zone)).utcoffset()
        shift = round(offset.total_seconds() / 3600) if offset else 0
        return {(hour - shift) % 24 for hour in WORKDAY}

    def score(self, a: Candidate, b: Candidate) -> float:
        value = 2.0 * len(self.complementarity(a, b)) + self.overlap_hours(a, b) / len(WORKDAY)
        if self.has_met(a.id, b.id):
            # Repeats only once someone has met everybody available.
            fresh = self._unmet[a.id] or self._unmet[b.id]
            value -= REPEAT_PENALTY if fresh else 5.0
        return value

    def reasons(self, members: Sequence[int]) -> tuple[str, ...]:
        found: list[str] = []
        for i, a_id in enumerate(members):
            for b_id in members[i + 1 :]:
                a, b = self.people[a_id], self.people[b_id]
                for giver, taker in ((a, b), (b, a)):
                    for skill in sorted(giver.strengths & taker.gaps):
                        found.append(
                            f"{giver.name} is strong in {skill}, which {taker.name} wants to learn"
                        )
                hours = self.overlap_hours(a, b)
                if hours >= 3:
                    found.append(f"{a.name} and {b.name} share {hours} working hours")
        return tuple(found) or ("you have not met yet",)


def match(
    people: Sequence[Candidate],
    *,
    mode: str = "pairs",
    mentors: Sequence[int] = (),
    history: History = History(),
    seed: int = 0,
    on: datetime | None = None,
) -> list[Group]:
    """Groups for one cycle: pairs (an odd one out makes a triad) or peer pairs plus a mentor."""
    if len(people) < 2:
        return [Group(members=tuple(p.id for p in people))] if people else []
    scorer = Scorer({p.id: p for p in people}, history, on or datetime(2026, 1, 5, tzinfo=UTC))
    pairs = _pairs(people, scorer, seed)
    groups = _place_odd_one(people, pairs, scorer)
    if mode == "triads" and mentors:
        return _with_mentors(groups, mentors, history, scorer)
    return [Group(members=g, reasons=scorer.reasons(g)) for g in groups]


def _pairs(people: Sequence[Candidate], scorer: Scorer, seed: int) -> list[tuple[int, ...]]:
    rng = random.Random(seed)  # noqa: S311 - a tie-breaker, not a secret
    ordered = sorted(people, key=lambda p: p.id)
    weights: dict[tuple[int, int], float] = {}
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            # A tiny seeded jitter breaks ties the same way every time for one seed.
            weights[(a.id, b.id)] = scorer.score(a, b) + rng.random() * 1e-6
    if len(ordered) > SPARSE_ABOVE:
        # Blossom matching is cubic: on a large cohort, first try each person's best
        # partners only. Kept when it pairs everyone without a premature repeat (the
        # same guarantees as the full graph), else the exact full graph decides.
        sparse = _max_matching(_best_edges(weights, BEST_PARTNERS))
        # Only a repeat while someone new was still available scores this low.
        if len(sparse) == len(ordered) // 2 and all(
            weights[pair] > -REPEAT_PENALTY / 2 for pair in sparse
        ):
            return list(sparse)
    return list(_max_matching(weights))


def _best_edges(weights: dict[tuple[int, int], float], keep: int) -> dict[tuple[int, int], float]:
    """The edges among each person's `keep` best-scoring partners (from either side)."""
    incident: dict[int, list[tuple[float, tuple[int, int]]]] = {}
    for edge, weight in weights.items():
        for end in edge:
            incident.setdefault(end, []).append((weight, edge))
    chosen: set[tuple[int, int]] = set()
    for edges in incident.values():
        edges.sort(reverse=True)
        chosen.update(edge for _weight, edge in edges[:keep])
    return {edge: weights[edge] for edge in sorted(chosen)}


def _max_matching(weights: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    graph: nx.Graph[int] = nx.Graph()
    for (a, b), weight in weights.items():
        graph.add_edge(a, b, weight=weight)
    matched = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted((min(a, b), max(a, b)) for a, b in matched)


def _place_odd_one(
    people: Sequence[Candidate], pairs: list[tuple[int, ...]], scorer: Scorer
) -> list[tuple[int, ...]]:
    paired = {pid for pair in pairs for pid in pair}
    alone = [p.id for p in people if p.id not in paired]
    groups = list(pairs)
    for pid in alone:
        best = max(
            range(len(groups)),
            key=lambda i: (
                sum(scorer.score(scorer.people[pid], scorer.people[m]) for m in groups[i]),
                -i,
            ),
        )
        groups[best] = tuple(sorted((*groups[best], pid)))
    return groups


def _with_mentors(
    groups: list[tuple[int, ...]], mentors: Sequence[int], history: History, scorer: Scorer
) -> list[Group]:
    """Each group gets a mentor: loads as even as possible, then mentors new to the group.

    A min-cost flow from groups through mentors to their "slots": a mentor's second slot
    costs more than anyone's first, so loads stay even; within that, a mentor a member
    already had costs more. Integer costs keep the network simplex exact.
    """
    cap = -(-len(groups) // len(mentors))
    graph: nx.DiGraph[object] = nx.DiGraph()
    for g, members in enumerate(groups):
        graph.add_edge("source", ("group", g), capacity=1, weight=0)
        for m, mentor in enumerate(mentors):
            if mentor in members:
                continue
            repeats = sum((mentor, member) in history.mentored for member in members)
            graph.add_edge(
                ("group", g), ("mentor", mentor), capacity=1, weight=repeats * 10_000 + m
            )
    for mentor in mentors:
        for slot in range(cap):
            graph.add_edge(
                ("mentor", mentor), ("slot", mentor, slot), capacity=1, weight=slot * 10**7
            )
            graph.add_edge(("slot", mentor, slot), "sink", capacity=1, weight=0)
    chosen: dict[int, int] = {}
    if graph.has_node("sink"):
        flow = nx.max_flow_min_cost(graph, "source", "sink")
        for g in range(len(groups)):
            for node, amount in flow.get(("group", g), {}).items():
                if amount and isinstance(node, tuple) and node[0] == "mentor":
                    chosen[g] = int(node[1])
    return [
        Group(members=members, mentor=chosen.get(g), reasons=scorer.reasons(members))
        for g, members in enumerate(groups)
    ]
