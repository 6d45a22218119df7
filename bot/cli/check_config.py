"""`cohortbot check-config`: validate app.yaml and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import app_config, config_option


@click.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate app.yaml and summarise it."""
    config = app_config(config_path)
    click.echo(
        f"OK: {len(config.programs)} program(s), {len(config.cohorts)} cohort(s), "
        f"{len(config.platforms.local.people)} playground people; Slack "
        f"{'on' if config.platforms.slack.enabled else 'off'}, Teams "
        f"{'emulator mode' if config.platforms.teams.emulator_mode else 'on'}."
    )
