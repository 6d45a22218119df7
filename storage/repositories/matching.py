"""Matching history: each cycle's groups of a cohort, and who said they met."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cohort, MatchGroup


@dataclass(frozen=True)
class NewGroup:
    """One group of a cycle as matching formed it."""

    members: tuple[int, ...]
    mentor_id: int | None
    reasons: tuple[str, ...]


class MatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_cohort(self, cohort_id: int) -> None:
        """Serialise cycles of one cohort (PostgreSQL row lock; SQLite has one writer anyway)."""
        await self._session.execute(
            select(Cohort.id).where(Cohort.id == cohort_id).with_for_update()
        )

    async def last_cycle(self, cohort_id: int) -> int:
        """The number of the latest cycle of the cohort; 0 before the first."""
        found = await self._session.scalar(
            select(func.max(MatchGroup.cycle)).where(MatchGroup.cohort_id == cohort_id)
        )
        return int(found or 0)

    async def save_cycle(
        self,
        *,
        cohort_id: int,
        cycle: int,
        mode: str,
        groups: Sequence[NewGroup],
        now: datetime,
    ) -> list[MatchGroup]:
        """Store one cycle's groups (with ids assigned), in the order given."""
        rows = [
            MatchGroup(
                cohort_id=cohort_id,
                cycle=cycle,
                mode=mode,
                members=list(group.members),
                mentor_id=group.mentor_id,
                reasons=list(group.reasons),
                met={},
                created_at=now,
            )
            for group in groups
        ]
        self._session.add_all(rows)
        await self._session.flush()
        return rows

    async def history(self, cohort_id: int) -> list[MatchGroup]:
        """Every group the cohort has had, oldest cycle first."""
        rows = await self._session.scalars(
            select(MatchGroup)
            .where(MatchGroup.cohort_id == cohort_id)
            .order_by(MatchGroup.cycle, MatchGroup.id)
        )
        return list(rows)

    async def cycle(self, cohort_id: int, cycle: int) -> list[MatchGroup]:
        rows = await self._session.scalars(
            select(MatchGroup)
            .where(MatchGroup.cohort_id == cohort_id, MatchGroup.cycle == cycle)
            .order_by(MatchGroup.id)
        )
        return list(rows)

    async def get(self, group_id: int) -> MatchGroup | None:
        return await self._session.get(MatchGroup, group_id)

    async def record_met(self, group_id: int, person_id: int, *, met: bool) -> MatchGroup | None:
        """Store one member's answer to "did you meet?"; None when the group is gone."""
        group = await self._session.get(MatchGroup, group_id, with_for_update=True)
        if group is None:
            return None
        # A new dict, so the JSON column is seen as changed.
        group.met = {**group.met, str(person_id): met}
        return group
