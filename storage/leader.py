"""Leadership for singletons (the outbox sender) across replicas sharing PostgreSQL.

PostgreSQL: a session advisory lock held on a dedicated connection; whoever holds it
leads until its connection closes. SQLite serves one process, which always leads.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class LeaderLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self._key = zlib.crc32(name.encode())
        self._connection: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._engine.dialect.name != "postgresql"

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        connection = await self._engine.connect()
        won = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        await connection.commit()
        if won:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
