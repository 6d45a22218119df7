"""app.yaml loading: the shipped demo, `${VAR}` expansion, overrides, error messages."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import (
    AppConfig,
    ConfigError,
    WeeklyTime,
    load_config,
)

REPO_ROOT = Path(__file__).resolve().parents[3]

PROGRAM = """
programs:
  pilot:
    skills: [presenting]
"""


def write(tmp_path: Path, text: str, name: str = "app.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_lines(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    return str(caught.value).splitlines()


# The shipped app.yaml


def test_shipped_app_yaml_loads_with_an_empty_environment() -> None:
    config = load_config(REPO_ROOT / "app.yaml", {})

    cohort = config.cohort("pilot-a")
    assert cohort is not None
    assert cohort.name == "Pilot cohort A"
    assert cohort.time_zone == "Europe/Berlin"
    assert len(cohort.participants) == 12
    assert cohort.facilitators == ["local:dana"]
    assert cohort.moderators == ["local:sam"]
    assert cohort.owners == ["local:olivia"]
    assert cohort.mentors == ["local:mo"]
    assert cohort.channels == {
        "local": "cohort-pilot-a",
        "slack": "C0COHORTA",
        "teams": "",  # set TEAMS_COHORT_CHANNEL to post in a Teams channel
    }


def test_shipped_demo_declares_every_local_person_its_cohort_names() -> None:
    config = load_config(REPO_ROOT / "app.yaml", {})
    declared = {person.ref for person in config.platforms.local.people}
    cohort = config.cohorts[0]

    named = {*cohort.facilitators, *cohort.moderators, *cohort.owners, *cohort.mentors}
    assert named | set(cohort.participants) <= declared
    assert len(declared) == 16


def test_shipped_demo_runs_locally_with_slack_off_and_teams_in_emulator_mode() -> None:
    config = load_config(REPO_ROOT / "app.yaml", {})

    assert config.server.host == "127.0.0.1"
    assert config.server.port == 3978
    assert config.storage.url == "sqlite+aiosqlite:///./cohortbot.db"
    assert not config.platforms.slack.enabled
    assert config.platforms.teams.emulator_mode
    assert config.platforms.local.enabled


def test_shipped_pilot_program_follows_the_practice() -> None:
    config = load_config(REPO_ROOT / "app.yaml", {})
    program = config.program_for(config.cohorts[0])

    assert program.weeks == 8
    assert "giving feedback" in program.skills
    assert [item.minutes for item in program.agenda] == [2, 10, 20, 10, 5]
    assert program.review.scale_max == 4
    assert len(program.review.rubric) == 4
    assert {badge.id for badge in program.badges} >= {
        "first-checkin",
        "streak-4-weeks",
        "reviews-given-3",
        "helpful-reviewer",
        "session-host",
        "program-completed",
    }
    assert program.kpis.participation_rate.green == 0.75
    assert program.kpis.review_turnaround_days.status(16) == "amber"
    assert program.cadence.session == WeeklyTime.parse("Wed 15:00")


def test_config_path_comes_from_cohortbot_config(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {port: 4000}\n", name="other.yaml")

    config = load_config(environ={"COHORTBOT_CONFIG": str(path)})

    assert config.server.port == 4000


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), {})

    assert config == AppConfig()
    assert config.server.port == 3978
    assert config.cohorts == []


# ${VAR} expansion


def test_env_reference_expands_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {public_url: 'https://${BOT_DOMAIN}/bot'}\n")

    config = load_config(path, {"BOT_DOMAIN": "cohort.example.com"})

    assert config.server.public_url == "https://cohort.example.com/bot"


def test_env_reference_default_applies_when_the_variable_is_unset_or_empty(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "server: {host: '${BIND:-192.0.2.10}', port: '${P:-4100}'}\n")

    assert load_config(path, {}).server.host == "192.0.2.10"
    assert load_config(path, {"BIND": ""}).server.host == "192.0.2.10"
    assert load_config(path, {"BIND": "::1"}).server.host == "::1"
    assert load_config(path, {}).server.port == 4100


def test_unset_env_reference_without_default_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "platforms: {teams: {app_id: '${NOT_SET}'}}\n")

    assert load_config(path, {}).platforms.teams.app_id == ""


def test_unset_env_reference_in_a_number_field_names_field_and_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {port: '${APP_PORT}'}\n")

    lines = error_lines(path)

    assert lines == [f"{path}: server.port: is empty (is an environment variable unset?)"]


def test_env_references_expand_inside_lists_but_not_in_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PROGRAM + "    holidays: ['${XMAS}']\n"
        "cohorts: [{id: a, program: pilot, channels: {slack: '${CH}'}}]\n",
    )

    config = load_config(path, {"XMAS": "2026-12-25", "CH": "C123"})

    assert str(config.programs["pilot"].holidays[0]) == "2026-12-25"
    assert config.cohorts[0].channels == {"slack": "C123"}


# Environment overrides


def test_database_url_overrides_storage_url(tmp_path: Path) -> None:
    path = write(tmp_path, "storage: {url: 'sqlite+aiosqlite:///./file.db'}\n")
    url = "postgresql+asyncpg://bot:pw@db/cohortbot"

    assert load_config(path, {"DATABASE_URL": url}).storage.url == url


def test_port_and_host_override_the_server_address(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {port: 3978}\n")

    config = load_config(path, {"PORT": "8080", "HOST": "192.0.2.10"})

    assert config.server.port == 8080
    assert config.server.host == "192.0.2.10"


def test_slack_variables_enable_slack_even_without_a_platforms_section(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {}\n")
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "shh",
        "SLACK_API_URL": "http://127.0.0.1:9999/api",
    }

    slack = load_config(path, environ).platforms.slack

    assert slack.enabled
    assert slack.bot_token == "xoxb-1"
    assert slack.signing_secret == "shh"
    assert slack.api_url == "http://127.0.0.1:9999/api/"


def test_empty_override_variable_leaves_the_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {port: 5000}\n")

    assert load_config(path, {"PORT": ""}).server.port == 5000


def test_teams_and_token_variables_override_their_fields(tmp_path: Path) -> None:
    environ = {
        "MICROSOFT_APP_ID": "app-1",
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "TEAMS_OPENID_METADATA_URL": "http://127.0.0.1:1/openid",
        "COHORTBOT_OPERATOR_TOKEN": "op",
    }

    config = load_config(write(tmp_path, ""), environ)

    assert config.platforms.teams.app_id == "app-1"
    assert not config.platforms.teams.emulator_mode
    assert config.platforms.teams.app_type == "SingleTenant"
    assert config.platforms.teams.openid_metadata_url == "http://127.0.0.1:1/openid"
    assert config.server.operator_token == "op"


def test_bad_override_value_names_the_variable(tmp_path: Path) -> None:
    lines = error_lines(write(tmp_path, ""), {"PORT": "eighty"})

    assert lines == [
        f"{tmp_path / 'app.yaml'}: server.port (from $PORT): expected a whole number, got 'eighty'"
    ]


# Error messages


def test_bad_checkin_time_names_field_path_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PROGRAM
        + """
cohorts:
  - {id: a, name: A, program: pilot}
  - id: b
    name: B
    program: pilot
    cadence:
      checkin: Mon 25:00
""",
    )

    assert error_lines(path) == [
        f"{path}: cohorts[1].cadence.checkin: 'Mon 25:00' is not a valid time"
    ]


def test_default_file_name_is_reported_as_app_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, PROGRAM + "cohorts: [{id: a, program: pilot, cadence: {checkin: Mon 25:00}}]\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigError) as caught:
        load_config(environ={})

    assert (
        str(caught.value) == "app.yaml: cohorts[0].cadence.checkin: 'Mon 25:00' is not a valid time"
    )


def test_bad_day_names_the_day(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM + "    cadence: {session: 'Funday 09:00'}\n")

    assert error_lines(path) == [
        f"{path}: programs.pilot.cadence.session: 'Funday 09:00' is not a valid day"
    ]


def test_unknown_program_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM + "cohorts: [{id: a, program: pilt}]\n")

    assert error_lines(path) == [
        f"{path}: cohorts[0].program: unknown program 'pilt' (known: pilot)"
    ]


def test_unknown_field_is_rejected_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {prot: 3978}\n")

    assert error_lines(path) == [f"{path}: server.prot: unknown field"]


def test_missing_field_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, "programs: {pilot: {weeks: 8}}\n")

    assert error_lines(path) == [f"{path}: programs.pilot.skills: is required"]


def test_bad_time_zone_is_not_known(tmp_path: Path) -> None:
    path = write(
        tmp_path, PROGRAM + "cohorts: [{id: a, program: pilot, time_zone: Mars/Olympus}]\n"
    )

    assert error_lines(path) == [
        f"{path}: cohorts[0].time_zone: 'Mars/Olympus' is not a known time zone"
    ]


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {port: 0, log_level: LOUD}\nscheduler: {grace_minutes: -1}\n")

    lines = error_lines(path)

    assert len(lines) == 3
    assert f"{path}: server.port: must be at least 1, got 0" in lines
    assert f"{path}: scheduler.grace_minutes: must be at least 0, got -1" in lines


def test_duplicate_cohort_ids_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, PROGRAM + "cohorts: [{id: a, program: pilot}, {id: a, program: pilot}]\n"
    )

    assert error_lines(path) == [f"{path}: cohorts[1].id: duplicate cohort id 'a'"]


def test_malformed_person_reference_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, PROGRAM + "cohorts: [{id: a, program: pilot, owners: [dana]}]\n")

    (line,) = error_lines(path)

    assert line.startswith(f"{path}: cohorts[0].owners[0]: 'dana' is not a person reference")


def test_database_url_error_does_not_echo_the_password(tmp_path: Path) -> None:
    lines = error_lines(write(tmp_path, ""), {"DATABASE_URL": "mysql://bot:hunter2@db/x"})

    assert len(lines) == 1
    assert "storage.url (from $DATABASE_URL)" in lines[0]
    assert "hunter2" not in lines[0]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  host: a\n port: 3\n")

    (line,) = error_lines(path)

    assert line.startswith(f"{path}: line 3, column 2: invalid YAML: ")


def test_duplicate_yaml_key_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 1\n  port: 2\n")

    assert error_lines(path) == [f"{path}: line 3, column 3: invalid YAML: duplicate key 'port'"]


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    (line,) = error_lines(path)

    assert line.startswith(f"{path}: file not found")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- server\n")

    (line,) = error_lines(path)

    assert line.startswith(f"{path}: expected a mapping")


# Value objects and helpers


@pytest.mark.parametrize(
    ("text", "weekday", "clock"),
    [("Mon 09:00", 0, time(9)), ("wednesday 15:30", 2, time(15, 30)), ("SUN 7:05", 6, time(7, 5))],
)
def test_weekly_time_parses_short_and_full_day_names(text: str, weekday: int, clock: time) -> None:
    parsed = WeeklyTime.parse(text)

    assert (parsed.weekday, parsed.time) == (weekday, clock)


def test_weekly_time_serialises_back_and_gives_cron_fields() -> None:
    parsed = WeeklyTime.parse("friday 7:05")

    assert str(parsed) == "Fri 07:05"
    assert parsed.cron_fields() == {"day_of_week": "fri", "hour": 7, "minute": 5}


def test_cohort_cadence_overrides_only_the_fields_it_writes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PROGRAM
        + "    cadence: {session: 'Thu 10:00', checkin: 'Tue 08:00'}\n"
        + "cohorts: [{id: a, program: pilot, cadence: {checkin: 'Mon 09:30'}}]\n",
    )
    config = load_config(path, {})
    cohort = config.cohorts[0]

    cadence = cohort.effective_cadence(config.program_for(cohort))

    assert cadence.session == WeeklyTime.parse("Thu 10:00")
    assert cadence.checkin == WeeklyTime.parse("Mon 09:30")


def test_config_round_trips_through_its_json_dump() -> None:
    config = load_config(REPO_ROOT / "app.yaml", {})

    dumped = config.model_dump(mode="json")

    assert dumped["programs"]["pilot"]["cadence"]["session"] == "Wed 15:00"
    assert AppConfig.model_validate(dumped) == config
