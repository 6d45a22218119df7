"""SQLite through aiosqlite with one thread round trip per statement.

aiosqlite runs sqlite3 in a thread of its own, and SQLAlchemy's adapter makes a round
trip to it for each cursor call: open, execute, fetch, close. Each round trip costs two
thread switches, which on a small machine takes longer than the statement itself; a
burst of 200 joins spent most of its time there. This cursor runs the whole statement
(execute, fetch every row, close) as one function in aiosqlite's thread.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Description = tuple[tuple[Any, ...], ...] | None


class _Outcome:
    """What a finished statement left behind, read by SQLAlchemy after it returns."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")
    arraysize = 1

    def __init__(
        self,
        description: _Description = None,
        rowcount: int = -1,
        lastrowid: int | None = None,
        rows: list[Any] | None = None,
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.rows = rows or []

    def close(self) -> None:
        """Nothing to release: the sqlite3 cursor was closed in the database thread."""


def _whole_statement(
    connection: sqlite3.Connection, call: Callable[[sqlite3.Cursor], object]
) -> _Outcome:
    """In aiosqlite's thread: the statement, all its rows, and the cursor closed."""
    cursor = connection.cursor()
    try:
        call(cursor)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(cursor.description, cursor.rowcount, cursor.lastrowid, rows)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements each cost one trip to the database thread."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()  # replaced by each statement's outcome

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        def call(cursor: sqlite3.Cursor) -> object:
            return cursor.execute(operation, () if parameters is None else parameters)

        return await self._run(call)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        def call(cursor: sqlite3.Cursor) -> object:
            return cursor.executemany(operation, seq_of_parameters)

        return await self._run(call)

    async def _run(self, call: Callable[[sqlite3.Cursor], object]) -> None:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _whole_statement, self._connection._conn, call
            )
        # The outcome answers what SQLAlchemy reads of a cursor after a statement.
        self._cursor = outcome  # type: ignore[assignment]
        self._rows = deque(outcome.rows)

    def close(self) -> None:
        self._rows.clear()


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy's DB-API module, with `OneTripCursor` cursors."""

    def connect(self, *arg: Any, **kw: Any) -> Any:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
