"""Per-cohort schedules installed at every start, by the flows that own them.

Flows register an installer; the app runs every installer for every cohort once the
database is seeded from app.yaml. Installers use `Timers.ensure_repeating`, so running
them again changes nothing unless the program's cadence changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import AppConfig, ProgramConfig
from bot.runtime.scheduler import Timers
from storage.models import Cohort
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class CohortSetupContext:
    uow: UnitOfWork
    cohort: Cohort
    program: ProgramConfig
    config: AppConfig
    timers: Timers
    now: datetime


Installer = Callable[[CohortSetupContext], Awaitable[None]]


@dataclass
class CohortSetup:
    installers: list[Installer] = field(default_factory=list)

    def register(self, installer: Installer) -> None:
        self.installers.append(installer)

    async def install(self, uow: UnitOfWork, config: AppConfig, *, now: datetime) -> int:
        """Run every installer for every cohort whose program is known; returns the count."""
        timers = Timers(uow, now)
        installed = 0
        for cohort in await uow.cohorts.all():
            program = config.programs.get(cohort.program)
            if program is None or not cohort.is_active:
                continue
            context = CohortSetupContext(uow, cohort, program, config, timers, now)
            for installer in self.installers:
                await installer(context)
            installed += 1
        return installed
