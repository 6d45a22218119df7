"""Answer validation: what each kind of question accepts, and what it says otherwise."""

from __future__ import annotations

import pytest

from bot.runtime.answers import Choice, Choices, FreeText, InvalidAnswer, Scale, TimeZone

SKILLS = ("presenting", "giving feedback", "coaching")


def test_several_choices_by_number_name_or_select_value() -> None:
    kind = Choices(SKILLS)
    assert kind.parse("1, 3") == ["presenting", "coaching"]
    assert kind.parse("Coaching and presenting") == ["presenting", "coaching"]
    assert kind.parse("giving feedback,coaching") == ["giving feedback", "coaching"]


def test_unknown_choice_names_the_bad_part() -> None:
    with pytest.raises(InvalidAnswer, match="'juggling' is not one of the options"):
        Choices(SKILLS).parse("presenting, juggling")
    with pytest.raises(InvalidAnswer, match="pick at least one"):
        Choices(SKILLS).parse(" , ")


def test_single_choice_and_scale() -> None:
    assert Choice(SKILLS).parse("2") == "giving feedback"
    assert Scale(1, 5).parse(" 4 ") == 4
    with pytest.raises(InvalidAnswer, match="from 1 to 5"):
        Scale(1, 5).parse("6")


def test_time_zone_forgives_case_and_spaces_and_suggests() -> None:
    assert TimeZone().parse("europe/berlin") == "Europe/Berlin"
    assert TimeZone().parse("New York") == "America/New_York"
    with pytest.raises(InvalidAnswer, match="not a time zone I know"):
        TimeZone().parse("Atlantis")


def test_free_text_limits() -> None:
    assert FreeText(max_len=10).parse("  data  ") == "data"
    with pytest.raises(InvalidAnswer, match="under 10 characters"):
        FreeText(max_len=10).parse("x" * 11)
