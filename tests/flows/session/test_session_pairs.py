"""Practice groups: this cycle's pairs when both are here, everyone else paired on the spot."""

from __future__ import annotations

from flows.session.pairs import join_practice, partner_of, practice_groups


def test_matched_pairs_stay_together_when_both_are_here() -> None:
    assert practice_groups([[1, 2], [3, 4]], present=[4, 1, 2, 3]) == [[1, 2], [3, 4]]


def test_people_whose_partner_is_absent_are_paired_in_order_of_arrival() -> None:
    assert practice_groups([[1, 2], [3, 4]], present=[1, 3, 5, 6]) == [[1, 3], [5, 6]]


def test_an_odd_one_out_joins_the_last_group() -> None:
    assert practice_groups([[1, 2]], present=[1, 2, 7]) == [[1, 2, 7]]


def test_a_matched_triad_keeps_the_two_who_came() -> None:
    assert practice_groups([[1, 2, 3]], present=[3, 1]) == [[1, 3]]


def test_someone_alone_is_still_in_a_group() -> None:
    assert practice_groups([[1, 2]], present=[9]) == [[9]]
    assert practice_groups([], present=[]) == []


def test_partner_is_the_first_other_member() -> None:
    groups = [[1, 2], [3, 4, 5]]
    assert (partner_of(groups, 2), partner_of(groups, 5), partner_of(groups, 9)) == (1, 3, None)


def test_a_late_arrival_partners_someone_practising_alone() -> None:
    assert join_practice([[1, 2], [3]], 4) == [[1, 2], [3, 4]]


def test_a_late_arrival_observes_the_latest_pair_when_everyone_has_a_partner() -> None:
    assert join_practice([[1, 2], [3, 4]], 5) == [[1, 2], [3, 4, 5]]


def test_a_late_arrival_with_nobody_practising_starts_a_group() -> None:
    assert join_practice([], 1) == [[1]]
