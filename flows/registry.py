"""Every flow and command cohortbot has, registered in one place."""

from __future__ import annotations

from bot.cohort_setup import CohortSetup
from bot.commands import CommandRouter
from bot.config import AppConfig
from bot.engine import FlowEngine
from bot.scheduler import TaskRegistry
from flows import availability, basics, enrolment, matching


def register_all(
    *,
    router: CommandRouter,
    engine: FlowEngine,
    tasks: TaskRegistry,
    config: AppConfig,
    setup: CohortSetup,
) -> None:
    basics.register(router)
    enrolment.register(router=router, engine=engine, tasks=tasks, config=config)
    availability.register(router=router)
    matching.register(router=router, engine=engine, tasks=tasks, config=config, setup=setup)
