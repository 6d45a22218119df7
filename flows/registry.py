"""Every flow and command cohortbot has, registered in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.cohort_setup import CohortSetup
from bot.commands import CommandRouter
from bot.config import AppConfig
from bot.dashboard_links import DashboardLinks
from bot.engine import FlowEngine
from bot.scheduler import TaskContext, TaskRegistry
from bot.web.dashboard import Dashboard
from flows import (
    availability,
    badges,
    basics,
    checkin,
    dashboard_link,
    enrolment,
    escalation,
    finale,
    matching,
    poll,
    reports,
    review,
    session,
    session_kickoff,
)
from flows.badge_hosting import add_badge_routes
from flows.dashboard_view import page_builder
from flows.session_calendar import add_calendar_routes
from storage.db import SessionFactory


def register_all(
    *,
    router: CommandRouter,
    engine: FlowEngine,
    tasks: TaskRegistry,
    config: AppConfig,
    setup: CohortSetup,
    links: DashboardLinks,
) -> None:
    basics.register(router)
    dashboard_link.register(router=router, config=config, links=links)
    enrolment.register(router=router, engine=engine, tasks=tasks, config=config)
    availability.register(router=router)
    checkin.register(router=router, engine=engine, tasks=tasks, config=config, setup=setup)
    matching.register(router=router, engine=engine, tasks=tasks, config=config, setup=setup)
    review.register(router=router, tasks=tasks, config=config)
    finale.register(router=router, engine=engine, tasks=tasks, config=config, setup=setup)
    reports.register(router=router, tasks=tasks, config=config, setup=setup)
    poll.register(router=router, tasks=tasks, config=config)
    runner = session.register(router=router, engine=engine, tasks=tasks, config=config)

    async def kickoff(task: TaskContext) -> None:
        await session_kickoff.kickoff(task, config=config, runner=runner)

    tasks.register(session_kickoff.KICKOFF_TASK, kickoff)
    setup.register(session_kickoff.install_kickoff)
    escalation.register(router=router, tasks=tasks, config=config, setup=setup)
    badges.register(router=router, tasks=tasks, config=config, setup=setup)


def register_routes(
    app: web.Application,
    *,
    sessions: SessionFactory,
    config: AppConfig,
    now: Callable[[], datetime],
    links: DashboardLinks,
) -> None:
    """HTTP endpoints that flows serve: the session calendar, hosted badges, the dashboard."""
    add_calendar_routes(app, sessions=sessions, config=config, now=now)
    add_badge_routes(app, sessions=sessions, config=config)
    Dashboard(
        sessions=sessions,
        links=links,
        operator_token=config.server.operator_token,
        build=page_builder(config),
        now=now,
    ).add_routes(app)
