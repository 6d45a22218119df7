"""Every feature cohortbot has, registered in one place: a table, read top to bottom."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.config import AppConfig
from bot.web.dashboard import Dashboard
from bot.web.links import DashboardLinks
from flows import (
    checkin,
    common,
    escalation,
    finale,
    matching,
    onboarding,
    poll,
    recognition,
    reports,
    review,
    session,
)
from flows.common.wiring import Wiring
from flows.recognition.hosting import add_badge_routes
from flows.reports.dashboard import page_builder
from flows.session.calendar import add_calendar_routes
from storage.db import SessionFactory

FEATURES: tuple[Callable[[Wiring], None], ...] = (
    common.register,
    onboarding.register,
    checkin.register,
    matching.register,
    review.register,
    finale.register,
    reports.register,
    poll.register,
    session.register,
    escalation.register,
    recognition.register,
)
"""Each feature package's `register`, called once at start in this order."""


def register_all(wiring: Wiring) -> None:
    for register in FEATURES:
        register(wiring)


def register_routes(
    app: web.Application,
    *,
    sessions: SessionFactory,
    config: AppConfig,
    now: Callable[[], datetime],
    links: DashboardLinks,
) -> None:
    """HTTP endpoints that features serve: the session calendar, hosted badges, the dashboard."""
    add_calendar_routes(app, sessions=sessions, config=config, now=now)
    add_badge_routes(app, sessions=sessions, config=config)
    Dashboard(
        sessions=sessions,
        links=links,
        operator_token=config.server.operator_token,
        build=page_builder(config),
        now=now,
    ).add_routes(app)
