"""The `cohortbot` command line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from aiohttp import web

from adapters.teams.package import build_package
from bot.app import CohortBot, StartupError
from bot.badge_export import EXIT_USAGE as EXPORT_USAGE
from bot.badge_export import ExportProblem, export_badges
from bot.cohort_setup import CohortSetup
from bot.commands import CommandRouter
from bot.config import AppConfig, ConfigError, load_config
from bot.engine import FlowEngine
from bot.logs import configure_logging
from bot.roster_command import (
    EXIT_USAGE,
    PLATFORMS,
    UsageProblem,
    default_platform,
    exit_code,
    read_roster,
    render,
    run_import,
)
from bot.scheduler import TaskRegistry
from flows.registry import register_all
from storage import migrate
from storage.db import create_engine

T = TypeVar("T")


def _config(path: Path | None) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


def _run(main: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(main())  # type: ignore[arg-type]  # a coroutine function's result
    except StartupError as error:
        click.echo(f"cohortbot cannot start: {error}", err=True)
        sys.exit(2)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $COHORTBOT_CONFIG or ./app.yaml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """cohortbot: peer-learning cohorts in Slack, Teams and the local playground."""


@main.command()
@config_option
def serve(config_path: Path | None) -> None:
    """Run the bot: migrate, then serve HTTP until SIGTERM or Ctrl-C."""
    config = _config(config_path)
    configure_logging(config.server.log_level)
    _run(lambda: _serve(config))


async def _serve(config: AppConfig) -> None:
    bot = CohortBot(config)
    await bot.prepare()
    runner = web.AppRunner(bot.web, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
    bot.start_background()
    url = f"http://{config.server.host}:{config.server.port}/"
    click.echo(f"cohortbot is running on {url} (playground at {url}); Ctrl-C stops it.")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    click.echo("Stopping: finishing work in flight; undelivered messages stay in the outbox.")
    await site.stop()
    await bot.stop()
    await runner.cleanup()


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: Path | None) -> None:
    """Apply every pending migration."""
    config = _config(config_path)

    async def upgrade() -> str | None:
        engine = create_engine(config.storage.url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    revision = _run(upgrade)
    click.echo(f"Database is at revision {revision}.")


@db.command("current")
@config_option
def db_current(config_path: Path | None) -> None:
    """Show the schema revision of the database and the latest one."""
    config = _config(config_path)

    async def current() -> str | None:
        engine = create_engine(config.storage.url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    revision = _run(current)
    click.echo(f"current: {revision or 'empty database'}; latest: {migrate.head_revision()}")


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate app.yaml and summarise it."""
    config = _config(config_path)
    click.echo(
        f"OK: {len(config.programs)} program(s), {len(config.cohorts)} cohort(s), "
        f"{len(config.platforms.local.people)} playground people; Slack "
        f"{'on' if config.platforms.slack.enabled else 'off'}, Teams "
        f"{'emulator mode' if config.platforms.teams.emulator_mode else 'on'}."
    )


@main.command()
@config_option
def demo(config_path: Path | None) -> None:
    """Serve the demo cohort in the playground (the same as `serve` with the shipped app.yaml)."""
    config = _config(config_path)
    configure_logging(config.server.log_level)
    for cohort in config.cohorts:
        click.echo(f"Demo cohort: {cohort.name}. Join it with `/cohort join {cohort.id}`.")
    _run(lambda: _serve(config))


@main.command("teams-package")
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
    config = _config(config_path)
    chosen = app_id or config.platforms.teams.app_id
    if not chosen:
        click.echo("Give the app id: --app-id or MICROSOFT_APP_ID.", err=True)
        sys.exit(2)
    router = CommandRouter()
    register_all(
        router=router,
        engine=FlowEngine(config),
        tasks=TaskRegistry(),
        config=config,
        setup=CohortSetup(),
    )
    commands = [(spec.name, spec.summary) for spec in router.table.specs()]
    try:
        written = build_package(chosen, out, commands=commands)
    except ValueError as error:
        click.echo(f"cohortbot cannot build the package: {error}", err=True)
        sys.exit(2)
    click.echo(f"Wrote {written}. Upload it in Teams: Apps -> Manage your apps -> Upload an app.")


@main.command("import-roster")
@config_option
@click.argument("roster_file", metavar="ROSTER.CSV", type=click.Path(path_type=Path))
@click.option("--cohort", "cohort_key", required=True, help="The cohort id (as in app.yaml).")
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS),
    default=None,
    help="Where to find people by email (default: Slack if set up, else Teams, else local).",
)
def import_roster(
    config_path: Path | None, roster_file: Path, cohort_key: str, platform: str | None
) -> None:
    """Enrol the people of a roster CSV in a cohort and start their onboarding.

    Columns: name, email, department, manager email, time zone, role. Each person is
    found on the platform by email; rows that cannot be matched are listed with the
    reason. Running it again adds nobody twice. Exit code 0: all rows imported or
    already there; 1: some rows invalid or not matched; 2: usage error.
    """
    config = _config(config_path)
    chosen = platform or default_platform(config)
    try:
        roster = read_roster(roster_file)
        report = _run(
            lambda: run_import(config, roster=roster, cohort_key=cohort_key, platform=chosen)
        )
    except UsageProblem as error:
        click.echo(f"cohortbot import-roster: {error}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(render(report, roster))
    sys.exit(exit_code(report))


@main.command("export-badges")
@config_option
@click.option(
    "--person",
    "person",
    required=True,
    help="Whose badges: an email, a platform:user id (slack:U0123, local:alex) or a number.",
)
@click.option("--cohort", "cohort_key", default=None, help="Only the badges of this cohort.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON here instead of to standard output.",
)
def export_badges_command(
    config_path: Path | None, person: str, cohort_key: str | None, out: Path | None
) -> None:
    """Export a person's badges as Open Badges 2.0 assertions (a JSON list).

    The recipient is the person's email, hashed with a salt; verification is hosted,
    with ids under server.public_url. Exit code 0: written; 1: the person is unknown
    or has no email; 2: usage error.
    """
    config = _config(config_path)
    try:
        export = _run(lambda: export_badges(config, person=person, cohort_key=cohort_key))
    except ExportProblem as problem:
        click.echo(f"cohortbot export-badges: {problem}", err=True)
        sys.exit(problem.code)
    text = json.dumps(export.assertions, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            click.echo(f"cohortbot export-badges: cannot write {out}: {error}", err=True)
            sys.exit(EXPORT_USAGE)
    name = export.person.display_name or person
    where = f" to {out}" if out else ""
    click.echo(f"Exported {len(export.assertions)} badge(s) of {name}{where}.", err=True)
    if not config.server.public_url:
        click.echo(
            "server.public_url is not set: the ids are urn:uuid names, so the badges "
            "cannot be verified as hosted until it is (COHORTBOT_PUBLIC_URL).",
            err=True,
        )
