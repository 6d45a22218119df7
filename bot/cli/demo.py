"""`cohortbot demo`: `serve` with the demo cohort announced."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import app_config, config_option, run_async
from bot.cli.serve import serve_until_stopped
from bot.support.logs import configure_logging


@click.command("demo")
@config_option
def demo(config_path: Path | None) -> None:
    """Serve the demo cohort in the playground (the same as `serve` with the shipped app.yaml)."""
    config = app_config(config_path)
    configure_logging(config.server.log_level)
    for cohort in config.cohorts:
        click.echo(f"Demo cohort: {cohort.name}. Join it with `/cohort join {cohort.id}`.")
    run_async(lambda: serve_until_stopped(config))
