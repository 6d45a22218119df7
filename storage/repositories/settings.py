"""Values the bot keeps across restarts and replicas: generated once, or recorded by a run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AppSetting
from storage.upsert import insert_ignoring_conflict


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_or_create(self, key: str, *, make: Callable[[], str], now: datetime) -> str:
        """The stored value, or `make()` stored now; the first writer wins on every replica."""
        await insert_ignoring_conflict(
            self._session,
            AppSetting,
            {"key": key, "value": make(), "created_at": now},
            conflict_columns=("key",),
        )
        value = await self._session.scalar(select(AppSetting.value).where(AppSetting.key == key))
        if value is None:
            raise LookupError(f"setting {key!r} vanished right after it was written")
        return value

    async def get(self, key: str) -> str | None:
        """The stored value, or None when nothing was stored under `key`."""
        value: str | None = await self._session.scalar(
            select(AppSetting.value).where(AppSetting.key == key)
        )
        return value

    async def put(self, key: str, value: str, *, now: datetime) -> None:
        """Store `value` under `key`, replacing what was there."""
        found = await self._session.scalar(select(AppSetting).where(AppSetting.key == key))
        if found is None:
            self._session.add(AppSetting(key=key, value=value, created_at=now))
        else:
            found.value = value
        await self._session.flush()
