"""`cohortbot export-xapi`, `send-xapi` and `xapi-status`: learning records as xAPI statements."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.common import app_config, config_option, run_async
from bot.cli.errors import UsageError
from bot.runtime.clock import SystemClock
from bot.xapi.operator import UnknownCohort, export_statements, queue_status, send_now
from storage.statuses import StatementStatus


@click.command("export-xapi")
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
    config = app_config(config_path)
    try:
        statements = run_async(
            lambda: export_statements(config, cohort_key=cohort_key, now=SystemClock().now())
        )
    except UnknownCohort as error:
        raise UsageError(str(error), command="export-xapi") from None
    text = json.dumps(statements, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(statements)} statement(s) to {out}.", err=True)


@click.command("send-xapi")
@config_option
def send_xapi(config_path: Path | None) -> None:
    """Send queued learning records to the LRS now, instead of waiting for the next run.

    Exit code 0: everything due was sent; 1: some statements failed or wait for a retry.
    """
    config = app_config(config_path)
    if not config.xapi.enabled:
        raise UsageError("no LRS is configured (set XAPI_ENDPOINT).", command="send-xapi")
    report = run_async(lambda: send_now(config))
    click.echo(
        f"queued {report.queued}, sent {report.sent}, failed {report.failed}, "
        f"waiting for a retry {report.retrying} ({report.posts} POSTs)."
    )
    for error in report.errors:
        click.echo(f"  failed: {error}")
    click.get_current_context().exit(1 if report.failed or report.retrying else 0)


@click.command("xapi-status")
@config_option
def xapi_status(config_path: Path | None) -> None:
    """Count the xAPI statements by status and list those the LRS refused."""
    config = app_config(config_path)
    depth, failed = run_async(lambda: queue_status(config))
    counts = ", ".join(f"{status} {depth.get(status, 0)}" for status in StatementStatus)
    lrs = "on" if config.xapi.enabled else "off (no XAPI_ENDPOINT)"
    click.echo(f"xAPI delivery {lrs}. Statements: {counts}.")
    if failed:
        click.echo("Refused by the LRS (not retried):")
        for line in failed:
            click.echo(f"  {line}")


XAPI_COMMANDS = (export_xapi, send_xapi, xapi_status)
