"""The posting rate the sender learned for each workspace, kept across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryRate


class DeliveryRateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[DeliveryRate]:
        return list(await self._session.scalars(select(DeliveryRate)))

    async def save(
        self,
        *,
        platform: str,
        workspace: str,
        rate: float,
        ceiling: float | None,
        now: datetime,
    ) -> None:
        row = await self._session.get(DeliveryRate, (platform, workspace))
        if row is None:
            row = DeliveryRate(platform=platform, workspace=workspace)
            self._session.add(row)
        row.rate, row.ceiling, row.updated_at = rate, ceiling, now
