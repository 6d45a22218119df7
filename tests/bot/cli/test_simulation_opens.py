"""A database left by `cohortbot simulate` opens as the run ended: export, dashboard, owner."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.cli.simulation.command import database_url
from bot.cli.simulation.world import COHORT, OWNER
from tests.conftest import PILOT_CONFIG
from tests.harness import demo_config, running_bot

LOCAL = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "MICROSOFT_APP_ID": ""}


@pytest.fixture(scope="module")
def simulated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cohortbot simulate` for four people over one week, run once for this module."""
    db = tmp_path_factory.mktemp("simulated") / "sim.db"
    args = ["simulate", "--config", str(PILOT_CONFIG), "--participants", "4", "--weeks", "1"]
    result = CliRunner().invoke(main, [*args, "--db", str(db)], env=LOCAL)
    assert result.exit_code == 0, result.output
    return db


def _copy(db: Path, tmp_path: Path) -> str:
    """A copy of the simulated database (serving it writes to it), as a database URL."""
    copy = tmp_path / "served.db"
    shutil.copyfile(db, copy)
    return database_url(copy)


async def test_export_without_as_of_reports_the_simulated_run_as_it_ended(
    simulated_db: Path,
) -> None:
    args = ["export", "--config", str(PILOT_CONFIG), "--cohort", COHORT, "--format", "json"]
    env = {**LOCAL, "DATABASE_URL": database_url(simulated_db)}

    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    kpis = {kpi["key"]: kpi for kpi in document["so_far"]["kpis"]}
    assert kpis["participation_rate"]["value"] is not None, "figures, not 'no data'"
    assert kpis["attendance"]["value"] is not None
    assert document["weeks"][0]["week"] == 1, "the run's weeks, not today's"
    assert document["weeks"][0]["funnel"]["invited"] == 4


async def test_the_simulated_owner_opens_a_dashboard_with_the_run_figures_from_the_playground(
    simulated_db: Path, tmp_path: Path
) -> None:
    async with running_bot(demo_config(_copy(simulated_db, tmp_path))) as playground:
        state = await (await playground.http.get("/playground/api/state")).json()
        assert OWNER in [person["id"] for person in state["people"]], "offered in the playground"

        await playground.say(OWNER, "/cohort dashboard")
        text = (await playground.last_dm(OWNER))["message"]["text"]
        link = re.search(r"<(http[^|>]+)\|", text)
        assert link, text
        url = urlparse(link.group(1))
        response = await playground.http.get(f"{url.path}?{url.query}")
        body = await response.text()

    assert response.status == 200, body
    assert "Simulated cohort" in body
    for key in ("participation_rate", "attendance"):
        row = re.search(rf'<tr data-kpi="{key}">(.*?)</tr>', body, flags=re.S)
        assert row, f"{key} is in the KPI table"
        assert "no data" not in row.group(1), row.group(1)
