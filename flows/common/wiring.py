"""What every feature's `register()` is given: the places it adds its commands, steps and timers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.router import CommandRouter
from bot.config import AppConfig
from bot.runtime.cohort_setup import CohortSetup
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import TaskRegistry
from bot.web.links import DashboardLinks


@dataclass(frozen=True)
class Wiring:
    """The bot's registries, handed to each feature once at start."""

    router: CommandRouter
    """`/cohort` commands, buttons and forms."""
    engine: FlowEngine
    """Conversations: flows and their steps."""
    tasks: TaskRegistry
    """Named timer tasks the scheduler runs."""
    config: AppConfig
    setup: CohortSetup
    """Per-cohort schedules installed at every start."""
    links: DashboardLinks
