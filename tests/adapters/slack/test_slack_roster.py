"""`cohortbot import-roster` against the fake Slack Web API, then delivery by the bot."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.adapters.slack.conftest import SECRET
from tests.fakes.slack_api import TEAM, FakeSlack, Scripted
from tests.harness import demo_config, running_bot
from tests.roster_helpers import (
    after_the_import,
    invoke_beside,
    person_by_email,
    stored,
    write_roster,
)


@pytest.fixture
async def slack_api() -> AsyncIterator[tuple[FakeSlack, dict[str, str]]]:
    """The fake Web API and the environment that points cohortbot at it."""
    fake = FakeSlack()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": str(server.make_url("/api/")),
        "SLACK_COHORT_CHANNEL": "C0COHORTA",
    }
    try:
        yield fake, environ
    finally:
        await server.close()


async def test_roster_imported_twice_enrols_by_slack_id_and_welcomes_each_person_once(
    database_url: str, tmp_path: Path, slack_api: tuple[FakeSlack, dict[str, str]]
) -> None:
    slack, environ = slack_api
    slack.add_user("U0ALEX", "alex@acme.test", name="Alex Schneider", tz="Europe/Berlin")
    slack.add_user("U0PRIYA", "priya@acme.test", name="Priya Raman", tz="Asia/Kolkata")
    slack.add_user("U0DANA", "dana@example.com", name="Dana Fischer", tz="Europe/Berlin")
    roster = write_roster(
        tmp_path,
        "Alex Schneider,alex@acme.test,Sales,boss@acme.test,,participant",
        "Priya Raman,Priya@Acme.test,Engineering,,America/New_York,",
        "Dana Fischer,dana@example.com,L&D,,,mentor",
        "Ghost,ghost@acme.test,,,,participant",
        "Broken,broken-at-acme.test,,,,",
    )
    env = {"DATABASE_URL": database_url, **environ}

    # No --platform: Slack is set up, so it is the default.
    first = await invoke_beside(roster, "--cohort", "pilot-a", env=env)
    after_first = await stored(database_url)
    second = await invoke_beside(roster, "--cohort", "pilot-a", env=env)

    assert first.exit_code == 1, first.output
    assert "via slack:" in first.output
    assert "imported:         3" in first.output
    for line, email, reason in [
        ("5", "ghost@acme.test", "no Slack user with this email"),
        ("6", "broken-at-acme.test", "'broken-at-acme.test' is not an email address"),
    ]:
        assert any(
            row.split(maxsplit=2) == [line, email, reason] for row in first.output.splitlines()
        )
    assert second.exit_code == 1
    assert "already enrolled: 3" in second.output
    assert "imported:         0" in second.output
    assert await stored(database_url) == after_first, "the second run duplicated something"

    alex = await person_by_email(database_url, "alex@acme.test")
    assert alex["identities"] == [("slack", TEAM, "U0ALEX")]
    assert alex["roles"] == ["participant"]
    assert alex["time_zone"] == "Europe/Berlin", "from Slack when the roster has none"
    assert alex["profile"] == {"department": "Sales", "manager_email": "boss@acme.test"}
    priya = await person_by_email(database_url, "priya@acme.test")
    assert priya["time_zone"] == "America/New_York", "the roster's zone comes first"
    dana = await person_by_email(database_url, "dana@example.com")
    assert dana["identities"] == [("local", "local", "dana"), ("slack", TEAM, "U0DANA")]
    assert dana["roles"] == ["facilitator", "mentor"], "the same person as in app.yaml"

    async with running_bot(
        demo_config(database_url, **environ), clock=after_the_import()
    ) as playground:
        await playground.bot.settle()

    welcomes = Counter(
        body["channel"]
        for body in slack.called("chat.postMessage")
        if "Welcome to Pilot cohort A" in str(body.get("text", ""))
    )
    assert welcomes == {"U0ALEX": 1, "U0PRIYA": 1}
    assert "U0DANA" not in {body["channel"] for body in slack.called("chat.postMessage")}


async def test_a_token_that_cannot_read_emails_stops_the_import_with_the_fix(
    sqlite_url: str, tmp_path: Path, slack_api: tuple[FakeSlack, dict[str, str]]
) -> None:
    slack, environ = slack_api
    slack.add_user("U0ALEX", "alex@acme.test", name="Alex Schneider")
    slack.fail_next("users.lookupByEmail", Scripted(status=200, error="missing_scope"))
    roster = write_roster(tmp_path, "Alex,alex@acme.test,,,,", "Priya,priya@acme.test,,,,")

    result = await invoke_beside(
        roster, "--cohort", "pilot-a", env={"DATABASE_URL": sqlite_url, **environ}
    )

    assert result.exit_code == 1
    assert "not matched:      2" in result.output
    assert (
        result.output.count(
            "not looked up: slack: missing_scope: the bot token lacks the users:read.email scope"
        )
        == 2
    )
    assert len(slack.called("users.lookupByEmail")) == 0, "one refusal, no second try per row"
    assert (await stored(sqlite_url)).activity.get("roster.imported") is None
