"""`/cohort report` and `/cohort deliveries` over Slack: signed slash commands in, Block Kit out."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, make_facilitator
from tests.fakes.slack_api import Scripted

FACILITATOR = "UFACIL01"
LEARNER = "U2147483697"


def blocks_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body.get("blocks", [])
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


async def test_a_slack_facilitator_gets_the_kpi_card_as_an_ephemeral_block_kit_reply(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await make_facilitator(slack_rig, FACILITATOR)
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await bot.settle()

    response = await slack_rig.command(
        "report",
        user_id=FACILITATOR,
        user_name="fay",
        channel_id="C0COHORTA",
        trigger_id="13345224609.738474920.report",
    )
    await bot.settle()

    assert response.status == 200
    (body,) = [b for _hook, b in slack_rig.slack.responses if b["text"].startswith("KPIs of")]
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("KPIs of Pilot cohort A: the program so far")
    blocks = blocks_of(body)
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert len(fields) == 9
    engaged = next(f for f in fields if "Engaged" in f)
    assert engaged.startswith("*🔴 Engaged (red)*\n0%")
    assert "0 of 13 invited onboarded and checked in" in engaged, "12 from app.yaml, 1 joined"
    assert any(f.startswith("*⚪ Satisfaction (no data)*\nno data") for f in fields)
    assert blocks[-1]["type"] == "context"


async def test_a_participant_asking_for_the_report_in_slack_is_refused(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await bot.settle()

    await slack_rig.command("report pilot-a", channel_id="C0COHORTA", trigger_id="1.2.report")
    await bot.settle()

    refusal = slack_rig.slack.ephemeral_texts()[-1]
    assert refusal.startswith("Only a facilitator or a program owner of Pilot cohort A can use")
    assert not any(t.startswith("KPIs of") for t in slack_rig.slack.ephemeral_texts())


async def test_deliveries_lists_a_dead_lettered_dm_with_the_slack_error(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await make_facilitator(slack_rig, FACILITATOR)
    slack_rig.slack.fail_next("chat.postMessage", Scripted(error="invalid_blocks"))
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await bot.settle()
    async with unit_of_work(bot.sessions) as uow:
        dead = list(
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead"))
        )
    assert len(dead) == 1, "the welcome DM was refused for good"

    await slack_rig.command(
        f"deliveries <@{LEARNER}>",
        user_id=FACILITATOR,
        user_name="fay",
        channel_id="C0COHORTA",
        trigger_id="1.2.deliveries",
    )
    await bot.settle()

    listing = slack_rig.slack.ephemeral_texts()[-1]
    lines = listing.splitlines()
    assert lines[0].startswith("Messages to ")
    assert "dead-lettered after 1 attempt(s): slack: invalid_blocks" in listing
    assert dead[0].person_id is not None
    newest_first = [line for line in lines if line.startswith("• ")]
    assert "dead-lettered" in newest_first[-1], "the welcome was the first message"
    assert all("sent" in line or "dead" in line for line in newest_first)
