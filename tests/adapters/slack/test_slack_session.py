"""A facilitated session over Slack: signed slash command and click in, Web API calls out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Attendance, CohortSession
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, make_facilitator, payload

FACILITATOR = "UFACIL01"
LEARNER = "U2147483697"


def here_button(post: dict[str, Any]) -> dict[str, Any]:
    for block in post["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith("session.here"):
                return dict(element)
    raise AssertionError("no I'm here button in the agenda")


async def test_session_runs_in_slack_with_one_updated_agenda(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    facilitator_id = await make_facilitator(slack_rig, FACILITATOR)

    response = await slack_rig.command(
        "session start", user_id=FACILITATOR, user_name="fay", channel_id="C0COHORTA"
    )
    await bot.settle()

    assert response.status == 200
    (post,) = [
        p
        for p in slack_rig.slack.called("chat.postMessage")
        if p["channel"] == "C0COHORTA" and p["text"].startswith("Session 1")
    ]
    assert "▶ *welcome* (2 min left)" in post["text"]
    assert any(
        "Session 1 of Pilot cohort A started" in t for t in slack_rig.slack.ephemeral_texts()
    )

    button = here_button(post)
    click = payload("block_actions.json")
    click["channel"] = {"id": "C0COHORTA", "name": "cohort-pilot-a"}
    click["container"] = {**click["container"], "channel_id": "C0COHORTA"}
    click["actions"] = [
        {**click["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    ]
    assert (await slack_rig.interaction(click)).status == 200
    await bot.settle()
    await slack_rig.command(
        "session next",
        user_id=FACILITATOR,
        user_name="fay",
        channel_id="C0COHORTA",
        trigger_id="13345224609.738474920.second",
    )
    await bot.settle()

    updates = slack_rig.slack.called("chat.update")
    assert len(updates) == 2, "one update for the arrival, one for the next item"
    assert all(u["channel"] == "C0COHORTA" for u in updates)
    assert len({u["ts"] for u in updates}) == 1, "always the same message"
    assert "▶ *micro-teach* (10 min left)" in updates[-1]["text"]
    async with unit_of_work(bot.sessions) as uow:
        session = await uow.session.scalar(select(CohortSession))
        attendance = list(await uow.session.scalars(select(Attendance)))
        learner = await uow.people.find_identity("slack", "T0001", LEARNER)
    assert session is not None
    assert (session.item, session.status, session.facilitator_id) == (1, "running", facilitator_id)
    assert learner is not None
    assert [a.person_id for a in attendance] == [learner[1].id]
