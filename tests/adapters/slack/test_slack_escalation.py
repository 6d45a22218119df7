"""A flag end to end over Slack: the message shortcut in, the moderators' channel out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Escalation, Identity
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload, slack_rig_for
from tests.harness import demo_config

MODS = "C0MODS"
MODERATOR = "U0MODERATOR"
REPORTER = "U2147483697"


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[SlackRig]:
    """The Slack rig with a moderators' channel and one Slack moderator in pilot-a."""
    with_mods = {"SLACK_MODERATORS_CHANNEL": MODS}
    async with slack_rig_for(lambda slack: demo_config(database_url, **slack, **with_mods)) as rig:
        playground = rig.playground
        bot = playground.bot
        async with unit_of_work(bot.sessions) as uow:
            cohort = await uow.cohorts.by_key("pilot-a")
            assert cohort is not None
            now = playground.clock.now()
            for user_id, name, role in (
                (MODERATOR, "Mia Moderator", "moderator"),
                (REPORTER, "alex", "participant"),
            ):
                person = await uow.people.ensure(
                    IdentityFacts(
                        platform="slack", workspace="T0001", user_id=user_id, display_name=name
                    ),
                    now=now,
                )
                await uow.cohorts.add_member(
                    cohort_id=cohort.id, person_id=person.id, role=role, now=now
                )
        yield rig


def blocks_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    raw = call["blocks"]
    found: list[dict[str, Any]] = raw if isinstance(raw, list) else json.loads(raw)
    return found


def button(call: dict[str, Any], label: str) -> dict[str, Any]:
    for block in blocks_of(call):
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no {label!r} button in {call['text']!r}")


def click(rig: SlackRig, ping: dict[str, Any], user: str, label: str) -> dict[str, Any]:
    """A block_actions payload for a click on the ping in the moderators' channel."""
    chosen = button(ping, label)
    body = payload("block_actions.json")
    body["user"] = {"id": user, "team_id": "T0001"}
    body["channel"] = {"id": MODS, "name": "moderators"}
    body["container"] = {"type": "message", "message_ts": ping["ts"], "channel_id": MODS}
    body["message"] = {"type": "message", "user": "UBOT", "ts": ping["ts"], "text": ping["text"]}
    body["trigger_id"] = f"trigger-{user}-{label}"
    body["response_url"] = rig.response_url
    body["actions"] = [
        {**body["actions"][0], "action_id": chosen["action_id"], "value": chosen["value"]}
    ]
    return body


async def test_flag_shortcut_pings_the_moderators_channel_and_acknowledge_updates_it(
    rig: SlackRig,
) -> None:
    bot = rig.playground.bot
    shortcut = payload("message_shortcut.json", response_url=rig.response_url)
    response = await rig.interaction(shortcut)
    await bot.settle()

    assert response.status == 200
    async with unit_of_work(bot.sessions) as uow:
        (row,) = list(await uow.session.scalars(select(Escalation)))
    assert (row.kind, row.status, row.reporter_id is not None) == ("flag", "open", True)
    assert row.dedup_key == "flag:slack:T0001:C0COHORTA:1547766101.000300"
    (ping,) = [p for p in rig.slack.called("chat.postMessage") if p["channel"] == MODS]
    assert ping["text"].startswith("Flagged message #1 in Pilot cohort A: an unkind remark")
    assert "https://acme.slack.com/archives/C0COHORTA/p1547766101000300" in json.dumps(
        blocks_of(ping)
    )
    assert any("The moderators of Pilot cohort A have it" in t for t in rig.slack.ephemeral_texts())
    ping = {**ping, "ts": await sent_ts(rig, MODS)}

    await rig.interaction(click(rig, ping, REPORTER, "Acknowledge"))
    await bot.settle()
    assert rig.slack.called("chat.update") == []
    (refusal,) = rig.slack.called("chat.postEphemeral")
    assert (refusal["channel"], refusal["user"]) == (MODS, REPORTER)
    assert refusal["text"].startswith("Only the cohort's moderators")

    await rig.interaction(click(rig, ping, MODERATOR, "Acknowledge"))
    await bot.settle()

    (update,) = rig.slack.called("chat.update")
    assert (update["channel"], update["ts"]) == (MODS, ping["ts"])
    assert "Acknowledged by Mia Moderator" in update["text"]
    labels = [
        element["text"]["text"]
        for block in blocks_of(update)
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert labels == ["Resolve"]
    told = [p for p in rig.slack.called("chat.postMessage") if p["channel"] == REPORTER]
    assert [p["text"] for p in told] == ["Mia Moderator is looking at your flagged message (#1)."]
    async with unit_of_work(bot.sessions) as uow:
        done = await uow.escalations.get(1)
        moderator = await uow.session.scalar(
            select(Identity).where(Identity.platform_user_id == MODERATOR)
        )
    assert done is not None
    assert moderator is not None
    assert (done.status, done.acknowledged_by) == ("acknowledged", moderator.person_id)


async def sent_ts(rig: SlackRig, channel: str) -> str:
    """The Slack ts the sender recorded for the message posted in `channel`."""
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        (original,) = await uow.outbox.refs("escalation:1")
    assert original.platform_ref is not None
    found_channel, _, ts = original.platform_ref.partition(":")
    assert found_channel == channel
    return ts
