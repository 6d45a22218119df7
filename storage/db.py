"""Engine and session setup for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from storage.files import create_owner_only
from storage.sqlite_driver import one_trip_dbapi

SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases and in-memory ones."""
    if not is_sqlite(url):
        return None
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return None
    return Path(database)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    SQL parameters are never put in errors or echoed: they carry message text and votes,
    and errors end up in logs.
    """
    if is_sqlite(url):
        _create_private_file(url)
        # SQLite has one writer. One pooled connection queues transactions fairly in
        # the event loop, instead of leaving them to SQLite's sleeping busy handler.
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": 30},
            module=one_trip_dbapi(),
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
    )


def _create_private_file(url: str) -> None:
    """Create a new SQLite file owner-only, before SQLite would create it with the umask.

    The database holds the dashboard signing key and everything people wrote; SQLite
    gives its WAL and shared-memory files the database file's mode.
    """
    path = sqlite_path(url)
    if path is None:
        return
    try:
        create_owner_only(path)
    except OSError:
        return  # a missing directory and the like: SQLite reports it when it connects


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
