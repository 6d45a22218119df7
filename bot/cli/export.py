"""`cohortbot export`: a cohort's KPIs and activity log to files or standard output.

Exit codes: 0 written, 2 for usage errors (unknown cohort, a cohort whose program is
not in app.yaml, an output that cannot be written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import click

from bot.cli.common import app_config, config_option, run_async
from bot.cli.errors import UsageError
from bot.config import AppConfig
from bot.runtime.simulation_record import report_time

# An entry point, like the composition root, so it may name the flow it runs.
from flows.reports.export import activity_csv, gather, kpi_csv, to_json
from storage import migrate
from storage.db import create_engine, session_factory
from storage.uow import unit_of_work

COMMAND = "export"
Format = Literal["csv", "json"]


@click.command(COMMAND)
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
    help="Report as of this UTC time (default: now; for a simulated run, its end).",
)
def export(
    config_path: Path | None, cohort_key: str, fmt: str, out: Path | None, as_of: datetime | None
) -> None:
    """Export a cohort's KPIs (so far and per program week) and its raw activity log.

    Exit code 0: written; 2: unknown cohort or another usage error.
    """
    config = app_config(config_path)
    now = as_of.replace(tzinfo=UTC) if as_of else None
    chosen: Format = "csv" if fmt == "csv" else "json"
    written = run_async(
        lambda: run_export(config, cohort_key=cohort_key, fmt=chosen, out=out, now=now)
    )
    if written.stdout:
        click.echo(written.stdout)
    for path in written.files:
        click.echo(f"Wrote {path}", err=bool(written.stdout))


@dataclass(frozen=True)
class Written:
    """Files written, or the document for standard output when no files were asked for."""

    files: tuple[Path, ...] = ()
    stdout: str = ""


async def run_export(
    config: AppConfig,
    *,
    cohort_key: str,
    fmt: Format,
    out: Path | None,
    now: datetime | None = None,
) -> Written:
    """JSON: one document (to `out` or stdout). CSV: two files in the folder `out` (default .).

    Without `now`, the report is as of now, or of the end of a simulated run.
    """
    engine = create_engine(config.storage.url)
    try:
        await migrate.upgrade(engine)
        async with unit_of_work(session_factory(engine)) as uow:
            cohort = await uow.cohorts.by_key(cohort_key.lower())
            if cohort is None:
                known = ", ".join(c.key for c in await uow.cohorts.all()) or "none yet"
                raise UsageError(
                    f"there is no cohort '{cohort_key}' (cohorts: {known})", command=COMMAND
                )
            program = config.programs.get(cohort.program)
            if program is None:
                raise UsageError(
                    f"cohort '{cohort.key}' runs program '{cohort.program}', "
                    "which app.yaml does not define",
                    command=COMMAND,
                )
            as_of = now or await report_time(uow, datetime.now(UTC))
            export = await gather(uow, cohort=cohort, program=program, now=as_of)
    finally:
        await engine.dispose()
    if fmt == "json":
        document = to_json(export)
        if out is None:
            return Written(stdout=document)
        return Written(files=(_write(out, document),))
    folder = out or Path()
    return Written(
        files=(
            _write(folder / f"{export.cohort.key}-kpis.csv", kpi_csv(export)),
            _write(folder / f"{export.cohort.key}-activity.csv", activity_csv(export)),
        )
    )


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(
            f"cannot write {path}: {error.strerror or error}", command=COMMAND
        ) from None
    return path
