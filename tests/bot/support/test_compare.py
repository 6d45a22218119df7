"""Secrets compared as bytes: any str, never an exception."""

from __future__ import annotations

import pytest

from bot.support.compare import same_secret


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [
        ("operator", "operator", True),
        ("opérateur", "opérateur", True),
        ("opérateur", "operator", False),
        ("operator", "opérateur", False),
        ("\udcff", "operator", False),
        ("\ud800\udfff", "\ud800\udfff", True),
        ("", "operator", False),
    ],
)
def test_secrets_of_any_characters_compare_without_raising(
    given: str, expected: str, same: bool
) -> None:
    assert same_secret(given, expected) is same
