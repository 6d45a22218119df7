"""SQLite's driver: each statement one trip to aiosqlite's thread, answering as sqlite3 does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine
from storage.sqlite_driver import OneTripDBAPI


async def test_statements_answer_rows_counts_and_ids_as_sqlite_does(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    try:
        assert isinstance(engine.dialect.dbapi, OneTripDBAPI)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            inserted = await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
            await connection.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}]
            )
            returned = await connection.execute(
                text("INSERT INTO t (v) VALUES ('d') RETURNING id, v")
            )
            assert returned.all() == [(4, "d")]
            changed = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id > 2"))
            assert changed.rowcount == 2
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, v FROM t ORDER BY id"))
            assert rows.keys() == ["id", "v"]
            assert rows.all() == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]
            assert (await connection.execute(text("SELECT v FROM t WHERE id = 9"))).all() == []
    finally:
        await engine.dispose()


async def test_a_failing_statement_raises_and_rolls_back_its_transaction(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        async with engine.connect() as connection:
            await connection.begin()
            await connection.execute(text("INSERT INTO t (v) VALUES ('b')"))
            with pytest.raises(IntegrityError):
                await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
            await connection.rollback()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]
    finally:
        await engine.dispose()
