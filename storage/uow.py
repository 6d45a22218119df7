"""Unit of work: one transaction and the repositories that share it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SessionFactory
from storage.repositories.activity import ActivityRepository
from storage.repositories.badges import BadgeRepository
from storage.repositories.checkins import CheckinRepository
from storage.repositories.cohort_sessions import CohortSessionRepository
from storage.repositories.cohorts import CohortRepository
from storage.repositories.delivery_rates import DeliveryRateRepository
from storage.repositories.escalations import EscalationRepository
from storage.repositories.flow_runs import FlowRunRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.kpis import KpiRepository
from storage.repositories.matching import MatchingRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.participation import ParticipationRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.polls import PollRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.reviews import ReviewRepository
from storage.repositories.schedule import ScheduleRepository
from storage.repositories.settings import SettingsRepository
from storage.repositories.xapi import XapiRepository


class UnitOfWork:
    """Everything one event or tick changes, committed together or not at all."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.people = PeopleRepository(session)
        self.cohorts = CohortRepository(session)
        self.flow_runs = FlowRunRepository(session)
        self.inbox = InboxRepository(session)
        self.outbox = OutboxRepository(session)
        self.delivery_rates = DeliveryRateRepository(session)
        self.schedule = ScheduleRepository(session)
        self.activity = ActivityRepository(session)
        self.participation = ParticipationRepository(session)
        self.checkins = CheckinRepository(session)
        self.cohort_sessions = CohortSessionRepository(session)
        self.matching = MatchingRepository(session)
        self.reviews = ReviewRepository(session)
        self.settings = SettingsRepository(session)
        self.retention = RetentionRepository(session)
        self.kpis = KpiRepository(session)
        self.xapi = XapiRepository(session)
        self.polls = PollRepository(session)
        self.escalations = EscalationRepository(session)
        self.badges = BadgeRepository(session)


@asynccontextmanager
async def unit_of_work(factory: SessionFactory) -> AsyncIterator[UnitOfWork]:
    """Commit on success, roll back on any exception."""
    async with factory() as session, session.begin():
        yield UnitOfWork(session)
