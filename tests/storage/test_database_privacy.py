"""What the database layer gives away: no SQL parameters in errors, owner-only SQLite files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import create_engine, sqlite_path

SECRET = "the words someone typed"


async def test_a_failed_statement_names_no_parameter(both_databases_url: str) -> None:
    engine = create_engine(both_databases_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failed:
                await connection.execute(
                    text("INSERT INTO no_such_table (words) VALUES (:words)"), {"words": SECRET}
                )
    finally:
        await engine.dispose()
    assert SECRET not in str(failed.value)
    assert "[parameters:" not in str(failed.value)


async def test_a_new_sqlite_file_is_created_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE words (words TEXT)"))
        await engine.dispose()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.db").stat().st_mode) == 0o600


def test_an_existing_sqlite_file_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch()
    database.chmod(0o640)

    create_engine(f"sqlite+aiosqlite:///{database}")

    assert stat.S_IMODE(database.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:///./cohortbot.db", Path("cohortbot.db")),
        ("sqlite+aiosqlite:////var/lib/cohortbot/bot.db", Path("/var/lib/cohortbot/bot.db")),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///file:shared?mode=memory&uri=true", None),
        ("postgresql+asyncpg://bot@db/cohortbot", None),
    ],
)
def test_the_file_of_a_database_url(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path
