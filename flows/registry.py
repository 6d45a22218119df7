"""Every flow and command cohortbot has, registered in one place."""

from __future__ import annotations

from bot.commands import CommandRouter
from bot.config import AppConfig
from bot.engine import FlowEngine
from bot.scheduler import TaskRegistry
from flows import basics, enrolment


def register_all(
    *, router: CommandRouter, engine: FlowEngine, tasks: TaskRegistry, config: AppConfig
) -> None:
    basics.register(router)
    enrolment.register(router=router, engine=engine, tasks=tasks, config=config)
