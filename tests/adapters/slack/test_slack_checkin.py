"""A check-in end to end over Slack: signed requests in, the fake Web API out, rows checked."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage.models import CheckinAnswer
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload
from tests.harness import CHANNEL

USER = "U2147483697"


def checkin_prompt(rig: SlackRig) -> dict[str, Any]:
    posts = [p for p in rig.slack.called("chat.postMessage") if p["channel"] == USER]
    return next(p for p in reversed(posts) if "check-in time" in p["text"])


def form_button(post: dict[str, Any]) -> dict[str, Any]:
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith("form.open"):
                return dict(element)
    raise AssertionError("the check-in has no form button")


async def test_a_slack_participant_answers_in_a_modal_and_the_digest_reaches_the_channel(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await bot.settle()
    await slack_rig.playground.say("dana", "/cohort checkin", channel=CHANNEL)

    button = form_button(checkin_prompt(slack_rig))
    click = payload("block_actions.json")
    click["actions"] = [
        {**click["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    ]
    await slack_rig.interaction(click)
    await bot.settle()
    (opened,) = slack_rig.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"].startswith("checkin.form:")
    assert {b.get("block_id") for b in view["blocks"]} >= {"success", "challenge"}

    submission = payload("view_submission.json")
    submission["view"]["callback_id"] = view["callback_id"]
    submission["view"]["state"] = {
        "values": {
            "success": {"success": {"type": "plain_text_input", "value": "Demoed in Slack"}},
            "challenge": {"challenge": {"type": "plain_text_input", "value": "Async feedback"}},
        }
    }
    response = await slack_rig.interaction(submission)
    await bot.settle()
    assert response.status == 200

    async with unit_of_work(bot.sessions) as uow:
        (row,) = list(await uow.session.scalars(select(CheckinAnswer)))
    assert (row.success, row.challenge) == ("Demoed in Slack", "Async feedback")
    assert row.answered_at is not None

    await slack_rig.playground.advance(timedelta(hours=48))
    digest = [
        p
        for p in slack_rig.slack.called("chat.postMessage")
        if p["channel"] == "C0COHORTA" and p["text"].startswith("Check-in round 1")
    ]
    assert len(digest) == 1
    assert "success: Demoed in Slack; challenge: Async feedback" in digest[0]["text"]
