"""`cohortbot export`: the KPIs and the activity log of a seeded cohort, as JSON and CSV."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli.main import main
from storage.models import Activity
from tests.conftest import REPO_ROOT
from tests.flows.reports.kpi_helpers import reading, seeded
from tests.flows.reports.test_kpis import seed_cohort_a

LOCAL = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "MICROSOFT_APP_ID": ""}
AS_OF = "2026-11-14T11:00"  # Saturday noon in Berlin, week 2 of cohort a


async def export(database_url: str, *options: str) -> Result:
    """The CLI as an operator runs it, on its own thread and event loop."""
    args = ["export", "--config", str(REPO_ROOT / "app.yaml"), "--as-of", AS_OF, *options]
    env = {"DATABASE_URL": database_url, **LOCAL}
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


async def logged_rows(database_url: str) -> int:
    async with seeded(database_url) as seeder, reading(seeder) as uow:
        return int(await uow.session.scalar(select(func.count(Activity.id))) or 0)


async def test_json_export_holds_the_report_each_week_and_the_whole_log(
    database_url: str,
) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
    result = await export(database_url, "--cohort", "a", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["cohort"]["start_date"] == "2026-11-02"
    so_far = {k["key"]: k for k in document["so_far"]["kpis"]}
    assert so_far["participation_rate"]["value"] == 0.5
    assert [w["week"] for w in document["weeks"]] == [1, 2]
    week_two = {k["key"]: k for k in document["weeks"][1]["kpis"]}
    assert week_two["participation_rate"] == {
        **week_two["participation_rate"],
        "value": 0.4,
        "status": "red",
        "previous": 0.6,
        "trend": "down",
    }
    assert document["weeks"][1]["funnel"] == {
        "invited": 6,
        "engaged": 3,
        "reviewed": 3,
        "improved": 1,
    }
    assert [n["name"] for n in document["weeks"][1]["nudges"]] == ["Dee", "Eve"]
    assert len(document["activity"]) == await logged_rows(database_url)
    ratings = [a for a in document["activity"] if a["verb"] == "session.rated"]
    assert (ratings[0]["person"], ratings[0]["data"]) == ("Ann", {"rating": 5})


async def test_csv_export_writes_a_kpi_table_and_an_activity_table(
    database_url: str, tmp_path: Path
) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
    result = await export(
        database_url, "--cohort", "a", "--format", "csv", "--out", str(tmp_path / "out")
    )

    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "a-kpis.csv").open(encoding="utf-8") as file:
        kpis = list(csv.DictReader(file))
    with (tmp_path / "out" / "a-activity.csv").open(encoding="utf-8") as file:
        activity = list(csv.DictReader(file))
    assert len(kpis) == 9 * 3, "nine KPIs for the program so far, week 1 and week 2"
    turnaround = next(r for r in kpis if r["week"] == "2" and r["kpi"] == "review_turnaround_days")
    assert (float(turnaround["value"]), turnaround["status"]) == (16.0, "amber")
    assert turnaround["higher_is_better"] == "False"
    first_week = next(r for r in kpis if r["week"] == "1" and r["kpi"] == "satisfaction")
    assert (float(first_week["value"]), first_week["previous"]) == (4.5, "")
    assert len(activity) == await logged_rows(database_url)
    posts = [r for r in activity if r["verb"] == "assessment.post"]
    assert [json.loads(r["data"]) for r in posts] == [{"x": 4, "y": 4}, {"x": 3, "y": 3}]
    assert "Wrote" in result.output


async def test_an_unknown_cohort_is_a_usage_error_that_names_the_known_ones(
    database_url: str,
) -> None:
    async with seeded(database_url) as seeder:
        await seed_cohort_a(seeder)
    result = await export(database_url, "--cohort", "nope", "--format", "csv")

    assert result.exit_code == 2
    assert "there is no cohort 'nope' (cohorts: a)" in result.stderr
    assert result.stdout == ""
