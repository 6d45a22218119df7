"""`cohortbot simulate`: a whole program in virtual time; the body is bot.cli.simulation."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.common import app_config, config_option, run_async
from bot.cli.errors import UsageError
from bot.cli.simulation.command import database_url, summary
from bot.cli.simulation.command import simulate as run_simulation
from bot.cli.simulation.world import Settings
from bot.support.logs import configure_logging


@click.command("simulate")
@config_option
@click.option("--program", default="pilot", show_default=True, help="The program from app.yaml.")
@click.option("--participants", type=click.IntRange(2, 500), default=12, show_default=True)
@click.option("--weeks", type=click.IntRange(1, 52), default=8, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same run.")
@click.option(
    "--response-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.8,
    show_default=True,
    help="Share of prompts the simulated people answer.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("simulation.db"),
    show_default=True,
    help="SQLite file the run leaves behind (open it with the dashboard).",
)
@click.option("--overwrite", is_flag=True, help="Replace the --db file if it exists.")
def simulate(
    config_path: Path | None,
    program: str,
    participants: int,
    weeks: int,
    seed: int,
    response_rate: float,
    db_path: Path,
    overwrite: bool,
) -> None:
    """Run a whole program in virtual time with simulated people, then print its report.

    Everything goes through the real router, flows, scheduler and outbox on the local
    platform; nothing is sent to Slack or Teams.
    """
    config = app_config(config_path)
    configure_logging("WARNING")
    if db_path.exists():
        if not overwrite:
            raise UsageError(f"{db_path} exists; pass --overwrite or choose another --db.")
        db_path.unlink()
    settings = Settings(
        program=program,
        participants=participants,
        weeks=weeks,
        seed=seed,
        response_rate=response_rate,
    )
    with click.progressbar(length=1000, label="Simulating", file=sys.stderr) as bar:

        def progress(share: float) -> None:
            bar.update(int(share * 1000) - bar.pos)

        outcome = run_async(
            lambda: run_simulation(
                config, settings, db_url=database_url(db_path), progress=progress
            )
        )
    click.echo(summary(outcome, settings))
    click.echo(f"\nThe database is in {db_path}.")
