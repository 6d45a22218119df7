"""Short durations: what `--closes 2h` and friends accept, and how durations are shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.support.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("0h30m", timedelta(minutes=30)),
    ],
)
def test_units_and_compounds_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2H", "1H30M", "3D", "2W", "90S"])
def test_units_are_case_insensitive(text: str) -> None:
    assert parse_duration(text) == parse_duration(text.lower())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 2h ", timedelta(hours=2)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("2 hours", timedelta(hours=2)),
        ("30min", timedelta(minutes=30)),
        ("3 days", timedelta(days=3)),
        ("1 week", timedelta(weeks=1)),
        ("45 secs", timedelta(seconds=45)),
    ],
)
def test_spaces_and_long_unit_names_are_tolerated(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "0h", "0m0s", "-2h", "2x", "h", "90", "1h30", "1.5h", "30m2h", "2h2h", "2 h x"],
)
def test_non_durations_are_rejected(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_error_names_the_text_and_shows_examples() -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration("2x")
    assert str(caught.value) == "'2x' is not a duration (use 30m, 2h, 3d or 2w)"


def test_zero_is_too_short() -> None:
    with pytest.raises(DurationError, match="more than zero"):
        parse_duration("0h")


def test_absurdly_long_durations_are_a_duration_error() -> None:
    with pytest.raises(DurationError, match="too long"):
        parse_duration("99999999999w")
    with pytest.raises(DurationError, match="too long"):
        parse_duration("9" * 40 + "s")


def test_duration_error_is_a_value_error() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=3), "3d"),
        (timedelta(weeks=2), "2w"),
        (timedelta(days=10), "1w3d"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=2, seconds=5), "2h5s"),
    ],
)
def test_format_is_compact_largest_unit_first(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


def test_format_of_zero_negative_and_fractions() -> None:
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(hours=-2)) == "-2h"
    assert format_duration(timedelta(minutes=5, microseconds=999_999)) == "5m"


@pytest.mark.parametrize(
    "text", ["30m", "2h", "3d", "2w", "1h30m", "90s", "1w6d23h59m59s", "52w", "1d1s"]
)
def test_parse_and_format_round_trip(text: str) -> None:
    delta = parse_duration(text)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize("seconds", [1, 59, 60, 61, 3599, 3600, 86_399, 86_400, 604_801, 10**8])
def test_every_whole_second_count_round_trips(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta
