"""The Teams message action "Flag for moderators": one invoke in, one escalation raised."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from adapters.teams.package import TEAMS_DIR
from adapters.teams.translate import FLAG_COMMAND, events
from storage.models import Escalation
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import (
    APP_ID,
    APP_PASSWORD,
    TENANT,
    TeamsRig,
    card_text,
    find_action,
    payload,
    running_teams_bot,
)
from tests.fakes.bot_connector import FakeBotConnector
from tests.harness import START

MODS = "19:moderators@thread.tacv2"
FLAG = "compose_extension_flag_message.json"


@pytest.fixture
async def rig(
    database_url: str, fake: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsRig]:
    """Teams with an app id, the cohort's channel and a moderators' channel."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert_file))
    environ = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_SERVICE_URL": fake.service_url,
        "TEAMS_MODERATORS_CHANNEL": MODS,
    }
    async for teams_rig in running_teams_bot(database_url, fake, environ):
        yield teams_rig


async def test_message_action_raises_one_escalation_in_the_moderators_channel(
    rig: TeamsRig,
) -> None:
    response = await rig.send(rig.activity(FLAG))
    assert response.status == 200
    assert await response.json() == {}, "no dialog follows: Teams closes it"
    await rig.send(rig.activity(FLAG))  # Teams retries an invoke it got no answer to in time
    await rig.send(rig.activity(FLAG, id="f:another-click-on-the-same-message"))

    async with unit_of_work(rig.bot.sessions) as uow:
        rows = list(await uow.session.scalars(select(Escalation)))
    assert len(rows) == 1
    (row,) = rows
    assert (row.kind, row.tag, row.summary) == ("flag", "conduct", "an unkind remark & worse")
    assert row.dedup_key.endswith("19:cohort-pilot-a@thread.tacv2:1763885000111")
    assert row.context["link"].startswith("https://teams.microsoft.com/l/message/")
    (ping,) = rig.fake.messages(MODS)
    text = card_text(ping.body)
    assert "**Flagged message #1** in Pilot cohort A" in text
    assert "Alex Schneider" in text
    assert "Priya Raman" in text
    thanks = [t for t in rig.texts() if "have it (#1)" in t]
    assert len(thanks) == 1
    assert any("flagged already (#1)" in t for t in rig.texts())


def test_manifest_declares_the_flag_message_action_the_translator_expects() -> None:
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    [extension] = manifest["composeExtensions"]
    [command] = extension["commands"]
    assert (command["id"], command["type"], command["context"]) == (
        FLAG_COMMAND,
        "action",
        ["message"],
    )
    assert [p["name"] for p in command["parameters"]] == ["note"]


def test_other_message_actions_are_not_flags() -> None:
    activity = payload(FLAG)
    activity["value"]["commandId"] = "somethingElse"

    assert events(activity, now=START) == []


async def test_a_teams_moderator_acknowledges_on_the_card_and_it_updates_in_place(
    rig: TeamsRig,
) -> None:
    await rig.send(rig.activity(FLAG))
    (ping,) = rig.fake.messages(MODS)
    click = rig.activity("invoke_adaptive_card_action.json")
    moderator = click["from"]
    async with unit_of_work(rig.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        person = await uow.people.ensure(
            IdentityFacts(
                platform="teams",
                workspace=TENANT,
                user_id=moderator["id"],
                display_name=moderator["name"],
            ),
            now=rig.clock.now(),
        )
        await uow.cohorts.add_member(
            cohort_id=cohort.id, person_id=person.id, role="moderator", now=rig.clock.now()
        )
    acknowledge = find_action(ping.body, "Acknowledge")
    click["conversation"] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": TENANT,
        "id": f"{MODS};messageid={ping.activity_id}",
    }
    click["channelData"] = {"channel": {"id": MODS}, "tenant": {"id": TENANT}}
    click["replyToId"] = ping.activity_id
    click["value"]["action"].update(
        verb=acknowledge["verb"], data=acknowledge["data"], title=acknowledge["title"]
    )

    response = await rig.send(click)

    assert (await response.json())["statusCode"] == 200
    (update,) = rig.fake.of_kind("update")
    assert (update.conversation_id, update.activity_id) == (MODS, ping.activity_id)
    assert "Acknowledged by Alex Schneider" in card_text(update.body)
    async with unit_of_work(rig.bot.sessions) as uow:
        row = await uow.escalations.get(1)
    assert row is not None
    assert (row.status, row.acknowledged_by) == ("acknowledged", person.id)
