"""The `cohortbot` command line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click
from aiohttp import web

from adapters.teams.package import build_package
from bot.app import CohortBot, StartupError
from bot.cli.badges import EXIT_USAGE as BADGE_EXPORT_USAGE
from bot.cli.badges import ExportProblem as BadgeExportProblem
from bot.cli.badges import export_badges
from bot.cli.export import EXIT_USAGE as EXPORT_USAGE
from bot.cli.export import ExportProblem, Format, run_export
from bot.cli.roster import (
    EXIT_USAGE,
    PLATFORMS,
    UsageProblem,
    default_platform,
    exit_code,
    read_roster,
    render,
    run_import,
)
from bot.cli.simulation.command import database_url as simulation_db_url
from bot.cli.simulation.command import simulate as run_simulation
from bot.cli.simulation.command import summary as simulation_summary
from bot.cli.simulation.world import Settings, SimulationSetupError
from bot.commands.router import CommandRouter
from bot.config import AppConfig, ConfigError, load_config
from bot.runtime.clock import SystemClock
from bot.runtime.cohort_setup import CohortSetup
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import TaskRegistry
from bot.support.logs import configure_logging
from bot.web.links import DashboardLinks
from bot.xapi.operator import UnknownCohort, export_statements, queue_status, send_now
from flows.common.wiring import Wiring
from flows.registry import register_all
from storage import migrate
from storage.db import create_engine
from storage.repositories.xapi import STATUSES

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


@main.command("export")
@config_option
@click.option("--cohort", "cohort_key", required=True, help="The cohort id (as in app.yaml).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="json: the file to write (default: standard output); "
    "csv: the folder for <cohort>-kpis.csv and <cohort>-activity.csv (default: .).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
    default=None,
    help="Report as of this UTC time (default: now).",
)
def export(
    config_path: Path | None, cohort_key: str, fmt: str, out: Path | None, as_of: datetime | None
) -> None:
    """Export a cohort's KPIs (so far and per program week) and its raw activity log.

    Exit code 0: written; 2: unknown cohort or another usage error.
    """
    config = _config(config_path)
    now = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    chosen: Format = "csv" if fmt == "csv" else "json"
    try:
        written = _run(
            lambda: run_export(config, cohort_key=cohort_key, fmt=chosen, out=out, now=now)
        )
    except ExportProblem as error:
        click.echo(f"cohortbot export: {error}", err=True)
        sys.exit(EXPORT_USAGE)
    if written.stdout:
        click.echo(written.stdout)
    for path in written.files:
        click.echo(f"Wrote {path}", err=bool(written.stdout))


@main.command()
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
    config = _config(config_path)
    configure_logging("WARNING")
    if db_path.exists():
        if not overwrite:
            click.echo(f"{db_path} exists; pass --overwrite or choose another --db.", err=True)
            sys.exit(2)
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

        try:
            outcome = _run(
                lambda: run_simulation(
                    config, settings, db_url=simulation_db_url(db_path), progress=progress
                )
            )
        except SimulationSetupError as error:
            click.echo(f"cohortbot simulate: {error}", err=True)
            sys.exit(2)
    click.echo(simulation_summary(outcome, settings))
    click.echo(f"\nThe database is in {db_path}.")


@main.command("export-xapi")
@config_option
@click.option("--cohort", "cohort_key", default=None, help="Only this cohort (its id in app.yaml).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The JSON file to write (default: standard output).",
)
def export_xapi(config_path: Path | None, cohort_key: str | None, out: Path | None) -> None:
    """Write the learning records as xAPI statements, a JSON array, without sending them.

    Needs no LRS: the file can be imported into one by hand. Statement ids are the
    ones live delivery uses, so nothing is recorded twice.
    """
    config = _config(config_path)
    try:
        statements = _run(
            lambda: export_statements(config, cohort_key=cohort_key, now=SystemClock().now())
        )
    except UnknownCohort as error:
        click.echo(f"cohortbot export-xapi: {error}", err=True)
        sys.exit(2)
    text = json.dumps(statements, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(statements)} statement(s) to {out}.", err=True)


@main.command("send-xapi")
@config_option
def send_xapi(config_path: Path | None) -> None:
    """Send queued learning records to the LRS now, instead of waiting for the next run.

    Exit code 0: everything due was sent; 1: some statements failed or wait for a retry.
    """
    config = _config(config_path)
    if not config.xapi.enabled:
        click.echo("cohortbot send-xapi: no LRS is configured (set XAPI_ENDPOINT).", err=True)
        sys.exit(2)
    report = _run(lambda: send_now(config))
    click.echo(
        f"queued {report.queued}, sent {report.sent}, failed {report.failed}, "
        f"waiting for a retry {report.retrying} ({report.posts} POSTs)."
    )
    for error in report.errors:
        click.echo(f"  failed: {error}")
    sys.exit(1 if report.failed or report.retrying else 0)


@main.command("xapi-status")
@config_option
def xapi_status(config_path: Path | None) -> None:
    """Count the xAPI statements by status and list those the LRS refused."""
    config = _config(config_path)
    depth, failed = _run(lambda: queue_status(config))
    counts = ", ".join(f"{status} {depth.get(status, 0)}" for status in STATUSES)
    lrs = "on" if config.xapi.enabled else "off (no XAPI_ENDPOINT)"
    click.echo(f"xAPI delivery {lrs}. Statements: {counts}.")
    if failed:
        click.echo("Refused by the LRS (not retried):")
        for line in failed:
            click.echo(f"  {line}")


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
    except BadgeExportProblem as problem:
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
            sys.exit(BADGE_EXPORT_USAGE)
    name = export.person.display_name or person
    where = f" to {out}" if out else ""
    click.echo(f"Exported {len(export.assertions)} badge(s) of {name}{where}.", err=True)
    if not config.server.public_url:
        click.echo(
            "server.public_url is not set: the ids are urn:uuid names, so the badges "
            "cannot be verified as hosted until it is (COHORTBOT_PUBLIC_URL).",
            err=True,
        )
