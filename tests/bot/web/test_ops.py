"""Operations: health, readiness, metrics, the CLI, start-up errors and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from adapters.local.guard import SECRET_HEADER
from bot.app import CohortBot, StartupError
from bot.cli.main import main
from storage import migrate
from tests.conftest import REPO_ROOT
from tests.fakes.sender_process import free_port
from tests.harness import PAGE_SECRET, demo_config, running_bot


async def test_health_readiness_and_metrics_answer(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "help")
        health = await playground.http.get("/healthz")
        ready = await playground.http.get("/readyz")
        metrics = await (await playground.http.get("/metrics")).text()

        assert (health.status, await health.json()) == (200, {"status": "up"})
        assert (ready.status, await ready.json()) == (200, {"status": "ready"})
        assert 'cohortbot_events_in_total{outcome="accepted",platform="local"} 1.0' in metrics
        assert 'cohortbot_messages_out_total{platform="local",status="sent"} 1.0' in metrics
        assert 'cohortbot_outbox_depth{status="pending"} 0.0' in metrics
        assert "cohortbot_scheduler_lag_seconds" in metrics


def test_playground_on_a_public_address_needs_a_token(sqlite_url: str) -> None:
    with pytest.raises(StartupError, match="COHORTBOT_PLAYGROUND_TOKEN"):
        CohortBot(demo_config(sqlite_url, HOST="0.0.0.0"))  # noqa: S104 - the exposure being refused


def test_cli_reports_a_bad_config_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "app.yaml"
    bad.write_text(
        "programs:\n  pilot: {skills: [presenting]}\ncohorts:\n"
        "  - {id: a, program: pilot}\n"
        "  - {id: b, program: pilot, cadence: {checkin: 'Mon 25:00'}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check-config", "--config", str(bad)])

    assert result.exit_code == 2
    assert "cohorts[1].cadence.checkin: 'Mon 25:00' is not a valid time" in result.output
    assert "Traceback" not in result.output


def test_cli_upgrades_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(
        main, ["db", "upgrade", "--config", str(REPO_ROOT / "app.yaml")], env={"DATABASE_URL": url}
    )

    assert result.exit_code == 0, result.output
    assert f"Database is at revision {migrate.head_revision()}" in result.output


async def test_serve_answers_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "COHORTBOT_CONFIG": str(REPO_ROOT / "app.yaml"),
    }
    log = (tmp_path / "serve.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        # Like the page: load it (its cookie), then send its secret with every call.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            ready = await wait_until_ready(session, f"{base}/readyz")
            assert ready == 200
            async with session.get(f"{base}/") as page:
                secret = PAGE_SECRET.search(await page.text())
            assert secret
            session.headers[SECRET_HEADER] = secret.group(1)
            async with session.post(
                f"{base}/playground/api/say",
                json={"person": "alex", "where": "dm", "text": "/cohort join pilot-a"},
            ) as response:
                assert response.status == 200
            await wait_for_dm(
                session, f"{base}/playground/api/feed?person=alex", "Welcome to Pilot cohort A"
            )
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
        assert code == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()


async def wait_until_ready(session: aiohttp.ClientSession, url: str) -> int:
    for _ in range(300):
        try:
            async with session.get(url) as response:
                return response.status
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError("the server never answered")


async def wait_for_dm(session: aiohttp.ClientSession, url: str, expected: str) -> None:
    for _ in range(100):
        async with session.get(url) as response:
            messages = (await response.json())["messages"]
        if any(expected in m["message"]["text"] for m in messages if m["where"] == "dm"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no DM with {expected!r} arrived")


def test_cli_builds_the_teams_package_with_the_bot_commands(tmp_path: Path) -> None:
    import json
    import zipfile

    app_id = "00000000-0000-0000-0000-00000000c0de"
    result = CliRunner().invoke(
        main,
        [
            "teams-package",
            "--config",
            str(REPO_ROOT / "app.yaml"),
            "--app-id",
            app_id,
            "--out",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "cohortbot-teams.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
        assert {"color.png", "outline.png"} <= set(package.namelist())
    assert manifest["bots"][0]["botId"] == app_id
    titles = {c["title"] for lst in manifest["bots"][0]["commandLists"] for c in lst["commands"]}
    assert {"cohort join", "cohort invite", "cohort profile"} <= titles


def test_cli_refuses_a_teams_package_without_an_app_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["teams-package", "--config", str(REPO_ROOT / "app.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--app-id or MICROSOFT_APP_ID" in result.output
