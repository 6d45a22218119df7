"""Choosing reviewers: a pure ranking, so the balancing rule is tested without a platform."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence


def pick_reviewers(
    candidates: Sequence[int],
    *,
    wanted: int,
    load: Mapping[int, int],
    exclude: Collection[int] = (),
    avoid: Collection[int] = (),
) -> list[int]:
    """Up to `wanted` people from `candidates`, the least loaded first.

    `exclude` never reviews (the author, anyone already on the request). `avoid` (the
    author's reviewers last time) is used only when nobody else is left, so nobody reviews
    the same author twice in a row if that can be helped. Ties go to the lower person id,
    so the same situation always gives the same reviewers.
    """
    eligible = [person for person in dict.fromkeys(candidates) if person not in exclude]
    ranked = sorted(eligible, key=lambda person: (person in avoid, load.get(person, 0), person))
    return ranked[:wanted]
