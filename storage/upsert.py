"""Insert-if-absent on both backends, the building block of every exactly-once guarantee."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def _insert_for(session: AsyncSession) -> Callable[..., Any]:
    """The INSERT construct of the session's backend (both know ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def insert_ignoring_conflict(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    *,
    conflict_columns: Sequence[str],
) -> int | None:
    """Insert a row and return its id, or None when the unique key already exists."""
    insert = _insert_for(session)
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(model.__table__.c.id)
    )
    result = await session.execute(statement)
    new_id: int | None = result.scalar_one_or_none()
    return new_id


async def insert_many_ignoring_conflict(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
    returning: str = "id",
) -> list[Any]:
    """Insert the rows whose unique key is new; returns their `returning` column, unordered.

    SQLAlchemy sends the rows as multi-row INSERTs of up to a thousand rows each (its
    "insertmanyvalues"), under both backends' limit on bound parameters per statement.
    """
    if not rows:
        return []
    insert = _insert_for(session)
    statement = (
        insert(model)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(model.__table__.c[returning])
    )
    result = await session.execute(statement, list(rows))
    return list(result.scalars())


async def upsert_many(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert the rows, or overwrite `update_columns` of those whose unique key exists.

    One statement for all rows, where a select-then-insert would cost two per row; the
    caller must not rely on instances of these rows it loaded earlier in the session.
    """
    if not rows:
        return
    insert = _insert_for(session)
    statement = insert(model)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={column: statement.excluded[column] for column in update_columns},
    )
    await session.execute(statement, list(rows))
