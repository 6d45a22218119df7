"""`/readyz` says ready only while the database can take a write within 2 s."""

from __future__ import annotations

import sqlite3

from tests.harness import demo_config, running_bot


async def test_readyz_fails_while_another_process_holds_the_database(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), timeout=5)
        holder.execute("BEGIN IMMEDIATE")
        try:
            held = await playground.http.get("/readyz")
            held_body = await held.json()
        finally:
            holder.rollback()
            holder.close()
        released = await playground.http.get("/readyz")

        assert held.status == 503
        assert "database" in held_body["problems"], held_body
        assert released.status == 200


async def test_readyz_fails_when_the_database_refuses_writes(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
        connection = sqlite3.connect(path)
        connection.execute(
            "CREATE TRIGGER full BEFORE UPDATE ON app_settings BEGIN SELECT * FROM no_space; END"
        )
        connection.execute(
            "CREATE TRIGGER full_insert BEFORE INSERT ON app_settings "
            "BEGIN SELECT * FROM no_space; END"
        )
        connection.commit()
        connection.close()

        refused = await playground.http.get("/readyz")

        assert refused.status == 503
        assert "cannot write" in (await refused.json())["problems"]["database"]
