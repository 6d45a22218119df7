"""Values the bot generates once and keeps across restarts and replicas."""

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
