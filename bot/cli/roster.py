"""`cohortbot import-roster`: the roster import run from the command line.

Exit codes: 0 when every row was imported or was already there, 1 when some rows were
invalid or could not be matched on the platform (they are listed), 2 for usage errors
(unreadable file, unusable header, unknown cohort, platform not enabled).

The welcome DMs go to the outbox and the running bot (`cohortbot serve`) delivers them.
The import does not send them itself: a second sender next to a running bot could send
a message twice (SQLite has no leader lock), and the playground's chat lives in the
running bot's memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.app import CohortBot
from bot.cli.common import app_config, config_option, run_async
from bot.cli.errors import UsageError
from bot.config import AppConfig
from bot.model.ports import UserDirectory
from bot.runtime.seed import seed_from_config
from flows.onboarding.roster_csv import Roster, RosterFileError, decode, parse

# An entry point, like the composition root, so it may name the flow it runs.
from flows.onboarding.roster_import import (
    ImportReport,
    Outcome,
    RosterImport,
    RowResult,
    UnknownCohort,
)
from storage import migrate
from storage.uow import unit_of_work

COMMAND = "import-roster"
PLATFORMS = ("slack", "teams", "local")
EXIT_OK, EXIT_ROWS_LEFT = 0, 1


@click.command(COMMAND)
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
    config = app_config(config_path)
    chosen = platform or default_platform(config)
    roster = read_roster(roster_file)
    report = run_async(
        lambda: run_import(config, roster=roster, cohort_key=cohort_key, platform=chosen)
    )
    click.echo(render(report, roster))
    click.get_current_context().exit(exit_code(report))


def default_platform(config: AppConfig) -> str:
    """The first real platform that is set up: Slack, then Teams with an app id, else local."""
    if config.platforms.slack.enabled:
        return "slack"
    if not config.platforms.teams.emulator_mode:
        return "teams"
    return "local"


def read_roster(path: Path) -> Roster:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UsageError(
            f"cannot read {path}: {error.strerror or error}", command=COMMAND
        ) from None
    try:
        return parse(decode(raw))
    except RosterFileError as error:
        raise UsageError(f"{path}: {error}", command=COMMAND) from None


async def run_import(
    config: AppConfig, *, roster: Roster, cohort_key: str, platform: str
) -> ImportReport:
    """Migrate and seed like `serve`, then import with a progress bar on stderr."""
    bot = CohortBot(config)
    try:
        client = bot.adapters.get(platform)
        if client is None:
            raise UsageError(_not_enabled(platform), command=COMMAND)
        directory = client.client
        if not isinstance(directory, UserDirectory):
            raise UsageError(f"{platform} cannot look people up by email", command=COMMAND)
        await migrate.upgrade(bot.engine)
        async with unit_of_work(bot.sessions) as uow:
            await seed_from_config(uow, config, now=bot.clock.now())
            await bot.cohort_setup.install(uow, config, now=bot.clock.now())
            if await uow.cohorts.by_key(cohort_key) is None:
                known = [cohort.key for cohort in await uow.cohorts.all()]
                raise UsageError(str(UnknownCohort(cohort_key, known)), command=COMMAND)
        importer = RosterImport(
            sessions=bot.sessions,
            flows=bot.flows,
            directory=directory,
            platform=platform,
            platforms=bot.platforms,
            clock=bot.clock.now,
        )
        with click.progressbar(
            length=len(roster.rows),
            label=f"Looking up {len(roster.rows)} people on {platform}",
            show_pos=True,
            file=sys.stderr,
        ) as bar:

            def advance(_result: RowResult) -> None:
                bar.update(1)

            return await importer.run(
                cohort_key=cohort_key,
                rows=roster.rows,
                problems=roster.problems,
                progress=advance,
            )
    finally:
        await bot.stop()


def _not_enabled(platform: str) -> str:
    how = {
        "slack": "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
        "teams": "set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD",
        "local": "enable platforms.local in app.yaml",
    }
    return f"{platform} is not enabled: {how[platform]}"


def render(report: ImportReport, roster: Roster) -> str:
    """The summary printed after an import, with a table of the rows not imported."""
    lines = [
        f"Roster import into {report.cohort_name} ({report.cohort_key}) via {report.platform}:",
        f"  imported:         {report.count(Outcome.IMPORTED)}",
        f"  already enrolled: {report.count(Outcome.ALREADY)}",
        f"  not matched:      {report.count(Outcome.NOT_MATCHED)}",
        f"  invalid rows:     {report.count(Outcome.INVALID)}",
    ]
    if roster.ignored_columns:
        lines.append(f"Columns ignored: {', '.join(roster.ignored_columns)}.")
    problems = report.problems
    if problems:
        width = max(len("email"), *(len(p.email) for p in problems))
        lines += ["", "Rows not imported:", f"  {'line':>5}  {'email':<{width}}  reason"]
        lines += [f"  {p.line:>5}  {p.email:<{width}}  {p.reason}" for p in problems]
    if report.queued:
        lines += [
            "",
            f"{report.queued} onboarding message(s) queued; the running bot (cohortbot serve) "
            "delivers them.",
        ]
    return "\n".join(lines)


def exit_code(report: ImportReport) -> int:
    return EXIT_OK if report.complete else EXIT_ROWS_LEFT
