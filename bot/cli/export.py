"""`cohortbot export`: a cohort's KPIs and activity log to files or standard output.

Exit codes: 0 written, 2 for usage errors (unknown cohort, a cohort whose program is
not in app.yaml, an output that cannot be written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from bot.config import AppConfig

# An entry point, like the composition root, so it may name the flow it runs.
from flows.reports.export import activity_csv, gather, kpi_csv, to_json
from storage import migrate
from storage.db import create_engine, session_factory
from storage.uow import unit_of_work

Format = Literal["csv", "json"]
EXIT_OK, EXIT_USAGE = 0, 2


class ExportProblem(Exception):
    """Something the operator must fix before the export can run."""


@dataclass(frozen=True)
class Written:
    """Files written, or the document for standard output when no files were asked for."""

    files: tuple[Path, ...] = ()
    stdout: str = ""


async def run_export(
    config: AppConfig, *, cohort_key: str, fmt: Format, out: Path | None, now: datetime
) -> Written:
    """JSON: one document (to `out` or stdout). CSV: two files in the folder `out` (default .)."""
    engine = create_engine(config.storage.url)
    try:
        await migrate.upgrade(engine)
        async with unit_of_work(session_factory(engine)) as uow:
            cohort = await uow.cohorts.by_key(cohort_key.lower())
            if cohort is None:
                known = ", ".join(c.key for c in await uow.cohorts.all()) or "none yet"
                raise ExportProblem(f"there is no cohort '{cohort_key}' (cohorts: {known})")
            program = config.programs.get(cohort.program)
            if program is None:
                raise ExportProblem(
                    f"cohort '{cohort.key}' runs program '{cohort.program}', "
                    "which app.yaml does not define"
                )
            export = await gather(uow, cohort=cohort, program=program, now=now)
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
        raise ExportProblem(f"cannot write {path}: {error.strerror or error}") from None
    return path
