"""The body of `cohortbot simulate`: build the world, run it, summarise what happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from bot.app import CohortBot
from bot.cli.simulation.run import Outcome, Simulation
from bot.cli.simulation.world import COHORT, Settings, personas, simulation_config, staff
from bot.config import AppConfig
from bot.runtime import simulation_record
from bot.runtime.clock import ManualClock
from bot.runtime.simulation_record import SimulatedPerson
from flows.reports.kpis import cohort_report
from flows.reports.view import report_message
from storage.uow import unit_of_work


def database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


async def simulate(
    base: AppConfig,
    settings: Settings,
    *,
    db_url: str,
    progress: Callable[[float], None] = lambda _share: None,
) -> Outcome:
    """Run the program in virtual time on the real bot; the database is left for the dashboard."""
    people = personas(settings)
    config = simulation_config(base, settings, people, db_url)
    clock = ManualClock(datetime.combine(settings.start, time(6, 0), tzinfo=UTC))
    bot = CohortBot(config, clock=clock, node_id="simulation")
    try:
        await bot.prepare()
        outcome = await Simulation(bot, clock, settings, people).run(progress)
        async with unit_of_work(bot.sessions) as uow:
            cohort = await uow.cohorts.by_key(COHORT)
            if cohort is None:
                raise RuntimeError("the simulated cohort is missing from its own database")
            outcome.report = await cohort_report(
                uow,
                cohort=cohort,
                program=config.programs[settings.program],
                week=None,
                now=clock.now(),
            )
            outcome.time_zone = cohort.time_zone
            # The dashboard and export then show the run as it ended, not as of today.
            await simulation_record.record(
                uow,
                ended_at=clock.now(),
                staff=[SimulatedPerson(p.id, p.name, p.time_zone) for p in staff()],
                now=clock.now(),
            )
        return outcome
    finally:
        await bot.stop()


def summary(outcome: Outcome, settings: Settings) -> str:
    """What the simulated people and the bot did, from the activity log."""
    lines = [
        f"Simulated {_plural(settings.weeks, 'week')} of "
        f"{_plural(settings.participants, 'participant')} "
        f"({outcome.started:%Y-%m-%d} to {outcome.ended:%Y-%m-%d}): "
        f"{outcome.actions} actions by people, {outcome.steps} clock steps.",
        "",
        "Activity log:",
    ]
    width = max((len(verb) for verb in outcome.activity), default=0)
    for verb, count in sorted(outcome.activity.items()):
        lines.append(f"  {verb:<{width}}  {count:>6}")
    if outcome.report is not None:
        lines += ["", report_message(outcome.report, time_zone=outcome.time_zone).text]
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
