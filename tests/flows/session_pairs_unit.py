"""Comparing practice groups regardless of the order of members within a group."""

from __future__ import annotations

from collections.abc import Sequence


def groups_are(found: Sequence[Sequence[int]], expected: Sequence[Sequence[int]]) -> bool:
    return [sorted(g) for g in found] == [sorted(g) for g in expected]
