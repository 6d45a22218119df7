"""`cohortbot export-xapi` and `send-xapi` as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli.main import main
from bot.config import parse_config
from bot.xapi.source import NAMESPACE_SETTING
from storage.models import Activity, AppSetting, XapiStatement
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.fakes.lrs import FakeLrs
from tests.flows.onboarding.test_onboarding import complete_onboarding
from tests.harness import demo_config, running_bot, two_cohorts_yaml


def two_cohorts(directory: Path) -> Path:
    """The tests' pilot configuration with a second cohort."""
    path = directory / "app.yaml"
    path.write_text(two_cohorts_yaml())
    return path


def run_cli(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


async def run_beside(*args: str, env: dict[str, str]) -> Result:
    """The CLI on its own thread and event loop, while the test's loop serves fakes."""
    return await asyncio.to_thread(run_cli, *args, env=env)


async def test_one_cohorts_records_are_written_as_a_json_array_without_any_lrs(
    database_url: str, tmp_path: Path
) -> None:
    config_file = two_cohorts(tmp_path)
    config = parse_config(
        config_file.read_text(encoding="utf-8"), environ={"DATABASE_URL": database_url}
    )
    async with running_bot(config) as playground:
        assert playground.bot.xapi is None, "no LRS is configured"
        await complete_onboarding(playground, "alex")
        await playground.say("tom", "/cohort join pilot-b")
        async with unit_of_work(playground.bot.sessions) as uow:
            pilot_a = await uow.cohorts.by_key("pilot-a")
            assert pilot_a is not None
            entries = list(
                await uow.session.scalars(
                    select(Activity)
                    .where(
                        Activity.verb.in_(["cohort.joined", "onboarding.completed"]),
                        Activity.cohort_id == pilot_a.id,
                    )
                    .order_by(Activity.id)
                )
            )
            space = await uow.session.scalar(
                select(AppSetting.value).where(AppSetting.key == NAMESPACE_SETTING)
            )

    out = tmp_path / "pilot-a.json"
    env = {"DATABASE_URL": database_url}
    result = await run_beside(
        "export-xapi",
        "--config",
        str(config_file),
        "--cohort",
        "pilot-a",
        "--out",
        str(out),
        env=env,
    )
    everything = await run_beside("export-xapi", "--config", str(config_file), env=env)

    assert result.exit_code == 0, result.output
    assert "Wrote 2 statement(s)" in result.stderr
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert space is None, "the bot without an LRS made no namespace; the export made it"
    async with running_bot(config) as reopened, unit_of_work(reopened.bot.sessions) as uow:
        space = await uow.session.scalar(
            select(AppSetting.value).where(AppSetting.key == NAMESPACE_SETTING)
        )
    assert space is not None
    expected = [str(uuid.uuid5(uuid.UUID(space), str(entry.id))) for entry in entries]
    assert [s["id"] for s in exported] == expected
    assert [s["verb"]["display"]["en-US"] for s in exported] == ["joined", "completed"]
    assert {s["object"]["id"].split("/cohorts/")[1].split("/")[0] for s in exported} == {"pilot-a"}
    assert everything.exit_code == 0, everything.output
    every = json.loads(everything.stdout)
    assert [s["id"] for s in every[:2]] == [s["id"] for s in exported]
    assert every[2]["object"]["id"].endswith("/cohorts/pilot-b"), "tom joined pilot-b"
    assert len(every) == 3


async def test_the_export_matches_what_the_lrs_received(database_url: str, tmp_path: Path) -> None:
    lrs = FakeLrs()
    await lrs.start()
    try:
        env = {
            "DATABASE_URL": database_url,
            "XAPI_ENDPOINT": lrs.endpoint,
            "XAPI_USERNAME": lrs.username,
            "XAPI_PASSWORD": lrs.password,
        }
        async with running_bot(demo_config(database_url, **env)) as playground:
            await complete_onboarding(playground, "alex")
            await playground.say("priya", "/cohort join pilot-a")
        sent = await run_beside("send-xapi", "--config", str(PILOT_CONFIG), env=env)
        again = await run_beside("send-xapi", "--config", str(PILOT_CONFIG), env=env)
        out = tmp_path / "all.json"
        exported = await run_beside(
            "export-xapi", "--config", str(PILOT_CONFIG), "--out", str(out), env=env
        )
    finally:
        await lrs.stop()

    assert sent.exit_code == 0, sent.output
    assert "queued 3, sent 3, failed 0" in sent.output
    assert "queued 0, sent 0" in again.output, "nothing is sent twice"
    assert len(lrs.posts) == 1
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8")) == list(lrs.stored.values())


def test_an_unknown_cohort_is_a_usage_error(sqlite_url: str) -> None:
    result = run_cli(
        "export-xapi",
        "--config",
        str(PILOT_CONFIG),
        "--cohort",
        "pilot-z",
        env={"DATABASE_URL": sqlite_url},
    )

    assert result.exit_code == 2
    assert "there is no cohort 'pilot-z'" in result.stderr
    assert "Traceback" not in result.output


def test_send_xapi_without_an_lrs_says_what_to_set(sqlite_url: str) -> None:
    result = run_cli("send-xapi", "--config", str(PILOT_CONFIG), env={"DATABASE_URL": sqlite_url})

    assert result.exit_code == 2
    assert "XAPI_ENDPOINT" in result.stderr


async def test_send_xapi_exits_1_while_the_lrs_is_down(sqlite_url: str) -> None:
    lrs = FakeLrs()
    await lrs.start()
    await lrs.stop()  # a port that refuses connections
    env = {"DATABASE_URL": sqlite_url, "XAPI_ENDPOINT": lrs.endpoint}
    async with running_bot(demo_config(sqlite_url, **env)) as playground:
        await playground.say("alex", "/cohort join pilot-a")

    result = await run_beside("send-xapi", "--config", str(PILOT_CONFIG), env=env)

    assert result.exit_code == 1
    assert "waiting for a retry 1" in result.output


async def test_xapi_status_counts_statements_and_lists_the_refused_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    lrs = FakeLrs()
    await lrs.start()
    env = {
        "DATABASE_URL": sqlite_url,
        "XAPI_ENDPOINT": lrs.endpoint,
        "XAPI_USERNAME": lrs.username,
        "XAPI_PASSWORD": lrs.password,
    }
    try:
        async with running_bot(demo_config(sqlite_url, **env)) as playground:
            await playground.say("alex", "/cohort join pilot-a")
            await playground.say("priya", "/cohort join pilot-a")
            xapi = playground.bot.xapi
            assert xapi is not None
            await xapi.enqueue_new()
            async with unit_of_work(playground.bot.sessions) as uow:
                refused = await uow.session.scalar(select(XapiStatement).limit(1))
                assert refused is not None
                refused.statement = {**refused.statement, "actor": {"objectType": "Agent"}}
            await xapi.deliver_due()
    finally:
        await lrs.stop()

    result = await run_beside("xapi-status", "--config", str(PILOT_CONFIG), env=env)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "xAPI delivery on. Statements: pending 0, sending 0, sent 1, failed 1."
    assert lines[1] == "Refused by the LRS (not retried):"
    assert lines[2].split()[:3] == [refused.statement_id, "activity", str(refused.activity_id)]
    assert "inverse functional identifier" in lines[2]
