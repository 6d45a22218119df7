"""Finding Teams members by UPN through real botbuilder and the fake Bot Connector,
and `cohortbot import-roster --platform teams` end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.teams.client import TeamsClient
from bot.model.ports import DirectoryUnavailable, PlatformUser, UserNotFound
from tests.adapters.teams.conftest import APP_ID, APP_PASSWORD, CHANNEL, TENANT, TeamsRig, card_text
from tests.fakes.bot_connector import Failure
from tests.roster_helpers import invoke_beside, person_by_email, stored, write_roster

ALEX = "29:1alex-teams-id"
PRIYA = "29:1priya-teams-id"


def add_people(rig: TeamsRig) -> None:
    rig.fake.add_member(
        CHANNEL, user_id=ALEX, name="Alex Schneider", upn="alex@acme.test", tenant_id=TENANT
    )
    rig.fake.add_member(
        CHANNEL, user_id=PRIYA, name="Priya Raman", upn="priya@acme.test", tenant_id=TENANT
    )


async def test_a_team_member_is_found_by_upn_in_the_cohort_channel(teams_rig: TeamsRig) -> None:
    add_people(teams_rig)

    user = await teams_rig.adapter.client.lookup_by_email("Alex@Acme.test", channel_id=CHANNEL)

    assert user == PlatformUser(
        user_id=ALEX,
        workspace=TENANT,
        display_name="Alex Schneider",
        time_zone=None,
        email="alex@acme.test",
    )
    (call,) = teams_rig.fake.of_kind("member")
    assert (call.method, call.conversation_id) == ("GET", CHANNEL)
    assert call.authorization == f"Bearer {teams_rig.fake.issued_token}"


async def test_someone_outside_the_team_is_not_found_with_the_reason(teams_rig: TeamsRig) -> None:
    add_people(teams_rig)

    with pytest.raises(UserNotFound, match="no member of the cohort's Teams team"):
        await teams_rig.adapter.client.lookup_by_email("ghost@acme.test", channel_id=CHANNEL)


async def test_throttled_lookups_wait_for_retry_after_then_back_off(teams_rig: TeamsRig) -> None:
    add_people(teams_rig)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    adapter = teams_rig.adapter
    client = TeamsClient(
        adapter=adapter.cloud, auth=adapter.auth, directory=adapter.directory, sleep=sleep
    )
    teams_rig.fake.fail_next(
        Failure(429, retry_after="7", kind="member"), Failure(503, kind="member")
    )

    user = await client.lookup_by_email("priya@acme.test", channel_id=CHANNEL)

    assert user.user_id == PRIYA
    assert [call.kind for call in teams_rig.fake.refused] == ["member", "member"]
    assert waits == [7.0, 2.0]


async def test_a_bot_not_in_the_team_cannot_look_anyone_up(teams_rig: TeamsRig) -> None:
    teams_rig.fake.fail_next(Failure(403, code="BotNotInConversationRoster", kind="member"))

    with pytest.raises(DirectoryUnavailable, match="is the app installed in that team"):
        await teams_rig.adapter.client.lookup_by_email("alex@acme.test", channel_id=CHANNEL)


async def test_import_by_upn_enrols_and_the_bot_welcomes_each_person_once(
    teams_rig: TeamsRig, database_url: str, tmp_path: Path
) -> None:
    add_people(teams_rig)
    fake = teams_rig.fake
    roster = write_roster(
        tmp_path,
        "Alex Schneider,alex@acme.test,Sales,,Europe/Berlin,",
        "Priya Raman,priya@acme.test,,,,",
        "Ghost,ghost@acme.test,,,,",
    )
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "",
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_SERVICE_URL": fake.service_url,
        "TEAMS_COHORT_CHANNEL": CHANNEL,
    }

    first = await invoke_beside(roster, "--cohort", "pilot-a", env=env)
    after_first = await stored(database_url)
    second = await invoke_beside(roster, "--cohort", "pilot-a", "--platform", "teams", env=env)

    assert first.exit_code == 1, first.output
    assert "via teams:" in first.output, "Teams with an app id is the default without Slack"
    assert "imported:         2" in first.output
    assert "ghost@acme.test" in first.output
    assert "already enrolled: 2" in second.output
    assert await stored(database_url) == after_first
    alex = await person_by_email(database_url, "alex@acme.test")
    assert alex["identities"] == [("teams", TENANT, ALEX)]
    assert (alex["time_zone"], alex["roles"]) == ("Europe/Berlin", ["participant"])
    priya = await person_by_email(database_url, "priya@acme.test")
    assert priya["time_zone"] == "UTC", "neither the roster nor Teams named one"

    teams_rig.clock.set(datetime.now(UTC) + timedelta(minutes=1))
    await teams_rig.bot.settle()

    created = sorted(call.body["members"][0]["id"] for call in fake.of_kind("create"))
    assert created == [ALEX, PRIYA]
    for user_id in (ALEX, PRIYA):
        welcomes = [
            call
            for call in fake.messages(f"a:personal-{user_id}")
            if "Welcome to Pilot cohort A" in card_text(call.body)
        ]
        assert len(welcomes) == 1
