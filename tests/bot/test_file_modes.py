"""The database and secret files are the owner's alone, and the bot says so when they are not."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import CohortBot
from tests.harness import demo_config, running_bot


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (group and others may read new files), whatever the test runner set."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_of(directory: Path, prefix: str) -> dict[str, int]:
    return {path.name: mode(path) for path in directory.glob(prefix + "*")}


def warnings_about(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and record.getMessage().startswith(f"{path} is open")
    ]


@pytest.mark.usefixtures("open_umask")
async def test_a_new_database_its_wal_and_the_poll_secret_are_owner_only(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    database = Path(empty_sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    async with running_bot(demo_config(empty_sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        modes = modes_of(tmp_path, database.name)  # while running: the WAL is there

    assert {database.name, database.name + "-wal", database.name + ".poll-secret"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)


@pytest.mark.usefixtures("open_umask")
def test_a_database_others_may_read_is_warned_about_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    database.chmod(0o644)
    caplog.set_level(logging.WARNING)

    CohortBot(demo_config(sqlite_url))

    (warning,) = warnings_about(caplog, database)
    assert "mode 644" in warning
    assert "chmod 600" in warning
    assert mode(database) == 0o644, "the operator's file is left as it is"


@pytest.mark.usefixtures("open_umask")
def test_a_poll_secret_file_others_may_read_is_warned_about_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    secret = database.with_name(database.name + ".poll-secret")
    secret.write_text("a" * 64 + "\n", encoding="utf-8")
    secret.chmod(0o640)
    caplog.set_level(logging.WARNING)

    CohortBot(demo_config(sqlite_url))

    (warning,) = warnings_about(caplog, secret)
    assert "mode 640" in warning
    assert warnings_about(caplog, database) == []


def test_owner_only_files_start_without_a_warning(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    CohortBot(demo_config(sqlite_url))

    assert [r.getMessage() for r in caplog.records if "chmod" in r.getMessage()] == []
