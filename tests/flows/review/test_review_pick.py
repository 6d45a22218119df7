"""The reviewer-picking rule on its own: load first, no repeats if avoidable, stable ties."""

from __future__ import annotations

from flows.review.pick import pick_reviewers


def test_the_least_loaded_people_are_picked_with_ties_going_to_the_lower_id() -> None:
    picked = pick_reviewers([5, 3, 9, 7], wanted=2, load={5: 0, 3: 2, 9: 0, 7: 1})
    assert picked == [5, 9]


def test_excluded_people_are_never_picked_even_when_too_few_are_left() -> None:
    assert pick_reviewers([1, 2, 3], wanted=3, load={}, exclude={2}) == [1, 3]


def test_last_times_reviewers_come_only_after_everyone_else() -> None:
    load = {1: 0, 2: 3, 3: 1}
    assert pick_reviewers([1, 2, 3], wanted=2, load=load, avoid={1}) == [3, 2]
    assert pick_reviewers([1, 2, 3], wanted=3, load=load, avoid={1}) == [3, 2, 1]


def test_the_same_situation_gives_the_same_reviewers_whatever_the_order() -> None:
    load = {4: 1, 8: 0, 2: 1, 6: 0}
    assert pick_reviewers([4, 8, 2, 6], wanted=3, load=load) == pick_reviewers(
        [6, 2, 8, 4, 8], wanted=3, load=load
    )
