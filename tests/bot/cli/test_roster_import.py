"""`cohortbot import-roster` on the local playground: enrolment, re-runs, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import demo_config, running_bot
from tests.roster_helpers import (
    after_the_import,
    invoke,
    invoke_beside,
    person_by_email,
    stored,
    write_roster,
)

LOCAL = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "MICROSOFT_APP_ID": ""}


def local_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, **LOCAL}


async def test_playground_people_are_enrolled_by_email_and_welcomed_once(
    database_url: str, tmp_path: Path
) -> None:
    roster = write_roster(
        tmp_path,
        "Sam Okafor,SAM@example.com,Operations,olivia@example.com,,participant",
        "Olivia Brandt,olivia@example.com,L&D,,,mentor",
    )

    first = await invoke_beside(roster, "--cohort", "pilot-a", env=local_env(database_url))
    after_first = await stored(database_url)
    second = await invoke_beside(roster, "--cohort", "pilot-a", env=local_env(database_url))

    assert first.exit_code == 0, first.output
    assert "via local:" in first.output
    assert "imported:         2" in first.output
    assert "delivers them" in first.output
    assert "Looking up 2 people on local" in first.stderr, "the progress bar"
    assert second.exit_code == 0, second.output
    assert "imported:         0" in second.output
    assert "already enrolled: 2" in second.output
    assert await stored(database_url) == after_first, "a second run stores nothing new"
    sam = await person_by_email(database_url, "sam@example.com")
    assert sam["roles"] == ["moderator", "participant"]  # moderator from app.yaml
    assert sam["identities"] == [("local", "local", "sam")]
    assert sam["profile"] == {"department": "Operations", "manager_email": "olivia@example.com"}
    olivia = await person_by_email(database_url, "olivia@example.com")
    assert olivia["roles"] == ["mentor", "owner"]
    assert after_first.activity["roster.imported"] == 2
    assert after_first.activity["cohort.joined"] == 1, "only the participant is onboarded"

    async with running_bot(demo_config(database_url), clock=after_the_import()) as playground:
        await playground.bot.settle()
        sam_dms = await playground.dm_texts("sam")
        olivia_dms = await playground.dm_texts("olivia")

    assert sum("Welcome to Pilot cohort A" in text for text in sam_dms) == 1
    assert olivia_dms == [], "staff get the role, not the onboarding"


def test_rows_left_out_are_listed_and_the_exit_code_is_1(tmp_path: Path, sqlite_url: str) -> None:
    roster = write_roster(
        tmp_path,
        "Sam,sam@example.com,,,,",
        "Nobody,nobody@example.com,,,,",
        "Typo,sam@example,,,,",
        "Mars,mo@example.com,,,Mars/Olympus,",
    )

    result = invoke(roster, "--cohort", "pilot-a", env=local_env(sqlite_url))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "  imported:         1" in lines
    assert "  not matched:      1" in lines
    assert "  invalid rows:     2" in lines
    table = lines[lines.index("Rows not imported:") + 1 :]
    assert table[0].split() == ["line", "email", "reason"]
    assert [row.split(maxsplit=2) for row in table[1:4]] == [
        ["3", "nobody@example.com", "no playground person with this email in app.yaml"],
        ["4", "sam@example", "'sam@example' is not an email address"],
        ["5", "mo@example.com", "'Mars/Olympus' is not an IANA time zone (like Europe/Berlin)"],
    ]


@pytest.mark.parametrize(
    ("setup", "options", "message"),
    [
        ("roster", ["--cohort", "pilot-z"], "there is no cohort 'pilot-z' (cohorts: pilot-a)"),
        ("missing", ["--cohort", "pilot-a"], "cannot read"),
        ("no-email", ["--cohort", "pilot-a"], "the header has no email column"),
        ("roster", ["--cohort", "pilot-a", "--platform", "slack"], "slack is not enabled"),
        ("roster", ["--cohort", "pilot-a", "--platform", "irc"], "Invalid value for '--platform'"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    tmp_path: Path, sqlite_url: str, setup: str, options: list[str], message: str
) -> None:
    path = tmp_path / "roster.csv"
    if setup == "roster":
        write_roster(tmp_path, "Sam,sam@example.com,,,,")
    elif setup == "no-email":
        path.write_text("name,department\nSam,Ops\n", encoding="utf-8")

    result = invoke(path, *options, env=local_env(sqlite_url))

    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert "imported:" not in result.output
