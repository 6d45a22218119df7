"""`cohortbot teams-package`: the Teams app package (manifest and icons) to upload in Teams."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.teams.package import build_package
from bot.cli.common import app_config, config_option
from bot.cli.errors import UsageError
from bot.commands.router import CommandRouter
from bot.config import AppConfig
from bot.runtime.cohort_setup import CohortSetup
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import TaskRegistry
from bot.web.links import DashboardLinks
from flows.common.wiring import Wiring
from flows.registry import register_all


@click.command("teams-package")
@config_option
@click.option(
    "--app-id", default=None, help="The bot's Microsoft app id (default: MICROSOFT_APP_ID)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path(),
    help="Where to write the zip (a file, or a folder for cohortbot-teams.zip).",
)
def teams_package(config_path: Path | None, app_id: str | None, out: Path) -> None:
    """Build the Teams app package (manifest and icons) to upload in Teams."""
    config = app_config(config_path)
    chosen = app_id or config.platforms.teams.app_id
    if not chosen:
        raise UsageError("Give the app id: --app-id or MICROSOFT_APP_ID.")
    try:
        written = build_package(chosen, out, commands=command_summaries(config))
    except ValueError as error:
        raise UsageError(f"cohortbot cannot build the package: {error}") from None
    click.echo(f"Wrote {written}. Upload it in Teams: Apps -> Manage your apps -> Upload an app.")


def command_summaries(config: AppConfig) -> list[tuple[str, str]]:
    """Every `/cohort` command's name and summary, for the manifest's command list."""
    router = CommandRouter()
    register_all(
        Wiring(
            router=router,
            engine=FlowEngine(config),
            tasks=TaskRegistry(),
            config=config,
            setup=CohortSetup(),
            # Only the command table is read here; no link is ever signed.
            links=DashboardLinks(lambda: config.server.secret_key or ""),
        )
    )
    return [(spec.name, spec.summary) for spec in router.table.specs()]
