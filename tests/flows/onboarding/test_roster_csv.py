"""Reading roster CSVs: tolerant of how spreadsheets save them, strict about each row."""

from __future__ import annotations

import pytest

from bot.model.roles import Role
from flows.onboarding.roster_csv import RosterFileError, RosterRow, RowProblem, decode, parse

HEADER = "name,email,department,manager email,time zone,role\n"


def test_a_full_row_is_read_with_every_column() -> None:
    roster = parse(
        HEADER + "Alex Schneider,Alex@Example.com,Sales,Boss@Example.com,Europe/Berlin,mentor\n"
    )

    assert roster.rows == [
        RosterRow(
            line=2,
            email="alex@example.com",
            name="Alex Schneider",
            department="Sales",
            manager_email="boss@example.com",
            time_zone="Europe/Berlin",
            role=Role.MENTOR,
        )
    ]
    assert roster.problems == []


def test_headers_are_case_space_and_underscore_insensitive_in_any_order() -> None:
    roster = parse(
        " Role ,E-Mail,MANAGER_EMAIL,Time_Zone,Full Name,Dept\n"
        "Facilitator,dana@example.com,olivia@example.com,Asia/Tokyo,Dana,L&D\n"
    )

    (row,) = roster.rows
    assert (row.name, row.email, row.department) == ("Dana", "dana@example.com", "L&D")
    assert (row.manager_email, row.time_zone, row.role) == (
        "olivia@example.com",
        "Asia/Tokyo",
        Role.FACILITATOR,
    )


def test_excel_utf8_with_bom_and_semicolons_is_read() -> None:
    raw = "\ufeffName;Email;Time zone\nMateo García;mateo@example.com;Europe/Madrid\n".encode()

    (row,) = parse(decode(raw)).rows

    assert (row.name, row.email, row.time_zone) == (
        "Mateo García",
        "mateo@example.com",
        "Europe/Madrid",
    )


def test_utf16_with_bom_and_tabs_is_read() -> None:
    raw = "email\tname\nyuki@example.com\tYuki Tanaka\n".encode("utf-16")

    assert [r.name for r in parse(decode(raw)).rows] == ["Yuki Tanaka"]


def test_role_defaults_to_participant_and_empty_cells_mean_unknown() -> None:
    (row,) = parse(HEADER + "Priya,priya@example.com,,,,\n").rows

    assert (row.role, row.time_zone, row.department, row.manager_email) == (
        Role.PARTICIPANT,
        None,
        "",
        "",
    )


def test_every_bad_row_is_reported_with_its_line_and_reason() -> None:
    roster = parse(
        HEADER + "Ok,ok@example.com,,,,\n"
        "No Email,,,,,\n"
        "Bad Email,bob(at)example.com,,,,\n"
        "Bad Manager,carol@example.com,,boss@,,\n"
        "Bad Zone,dave@example.com,,,Berlin,\n"
        "Bad Role,erin@example.com,,,,trainer\n"
        "Twice,OK@example.com,,,,\n"
        "Too many,frank@example.com,,,,,surprise\n"
    )

    assert [r.email for r in roster.rows] == ["ok@example.com"]
    assert roster.problems == [
        RowProblem(3, "", "no email"),
        RowProblem(4, "bob(at)example.com", "'bob(at)example.com' is not an email address"),
        RowProblem(5, "carol@example.com", "manager email 'boss@' is not an email address"),
        RowProblem(6, "dave@example.com", "'Berlin' is not an IANA time zone (like Europe/Berlin)"),
        RowProblem(
            7,
            "erin@example.com",
            "role 'trainer' is not one of participant, mentor, facilitator, moderator, owner",
        ),
        RowProblem(8, "OK@example.com", "the same email is on line 2"),
        RowProblem(9, "frank@example.com", "has 7 fields but the header names 6"),
    ]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks() -> None:
    roster = parse(HEADER + '"Lena\nVogel",lena@example.com,,,,\n\n"Tom",tom@example,,,,\n')

    assert [(r.line, r.name) for r in roster.rows] == [(2, "Lena\nVogel")]
    assert roster.problems == [
        RowProblem(5, "tom@example", "'tom@example' is not an email address")
    ]


def test_a_time_zone_that_is_a_path_is_refused() -> None:
    roster = parse("email,time zone\nx@example.com,../../etc/passwd\n")

    assert roster.rows == []
    assert "is not an IANA time zone" in roster.problems[0].reason


def test_unknown_columns_are_named_not_silently_used() -> None:
    roster = parse("email,employee id\nx@example.com,12345\n")

    assert roster.ignored_columns == ["employee id"]
    assert [r.email for r in roster.rows] == ["x@example.com"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("name,department\nAlex,Sales\n", "the header has no email column (found 'name', "),
        ("email,E-mail\na@example.com,b@example.com\n", "the column 'E-mail' appears twice"),
    ],
)
def test_a_file_without_a_usable_header_is_refused(text: str, message: str) -> None:
    with pytest.raises(RosterFileError, match=message.replace("(", r"\(")):
        parse(text)


def test_a_file_that_is_not_utf8_is_refused_with_advice() -> None:
    with pytest.raises(RosterFileError, match="save it as 'CSV UTF-8'"):
        decode("email\nmüller@example.com\n".encode("latin-1"))
