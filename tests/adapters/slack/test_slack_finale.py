"""The finale end to end over Slack: signed commands, DMs and clicks in; Web API calls out."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from typing import Any

from sqlalchemy import select

from bot.model.roles import Role
from storage.models import Activity
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload

LEARNER = "U2147483697"
MANAGER = "UMANAGER1"
FACILITATOR = "UFACIL01"
_events = count(1)


async def add_person(rig: SlackRig, user_id: str, name: str, role: Role | None) -> int:
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        person = await uow.people.ensure(
            IdentityFacts(platform="slack", workspace="T0001", user_id=user_id, display_name=name),
            now=rig.playground.clock.now(),
        )
        if role is not None:
            cohort = await uow.cohorts.by_key("pilot-a")
            assert cohort is not None
            await uow.cohorts.add_member(
                cohort_id=cohort.id, person_id=person.id, role=role, now=rig.playground.clock.now()
            )
        return person.id


def dms(rig: SlackRig, user_id: str) -> list[dict[str, Any]]:
    return [p for p in rig.slack.called("chat.postMessage") if p["channel"] == user_id]


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post["blocks"]
    return list(blocks if isinstance(blocks, list) else json.loads(blocks))


def element(post: dict[str, Any], label: str) -> dict[str, Any]:
    for block in blocks_of(post):
        for found in block.get("elements", []):
            if found.get("type") == "button" and found["text"]["text"] == label:
                return dict(found)
    raise AssertionError(f"no button {label!r} in {post['text']!r}")


async def click(rig: SlackRig, label: str) -> None:
    """Click a button of the learner's latest DM, as Slack posts a block_actions payload."""
    button = element(dms(rig, LEARNER)[-1], label)
    action = payload("block_actions.json")
    action["actions"] = [
        {**action["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    ]
    action["trigger_id"] = f"trigger-{next(_events)}"
    response = await rig.interaction(action)
    assert response.status == 200
    await delivered(rig)


async def type_dm(rig: SlackRig, text: str) -> None:
    """The learner types in the bot's DM (a signed `message.im` event)."""
    envelope = payload("event_message_im.json", event_id=f"EvFinale{next(_events)}")
    envelope["event"] = {**envelope["event"], "text": text, "ts": f"17000.{next(_events)}"}
    response = await rig.event(envelope)
    assert response.status == 200
    await delivered(rig)


async def command(rig: SlackRig, text: str, **fields: str) -> None:
    response = await rig.command(text, trigger_id=f"trigger-{next(_events)}", **fields)
    assert response.status == 200
    await delivered(rig)


async def delivered(rig: SlackRig) -> None:
    """Let the sender's per-channel rate limit pass, so every queued message goes out."""
    await rig.playground.bot.settle()
    await rig.playground.advance(timedelta(minutes=1))


async def logged(rig: SlackRig, verb: str) -> list[Activity]:
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


async def test_a_slack_participant_completes_the_finale_and_their_manager_gets_the_summary(
    slack_rig: SlackRig,
) -> None:
    await add_person(slack_rig, FACILITATOR, "Fay", Role.FACILITATOR)
    manager_id = await add_person(slack_rig, MANAGER, "Morgan", None)
    await command(slack_rig, "join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    # Onboarding by typing: time zone, the survey, four ratings, consent, the manager.
    for answer in ("Europe/Berlin", "Design", "1", "2", "async", "mornings"):
        await type_dm(slack_rig, answer)
    for rating in ("2", "2", "3", "3"):
        await click(slack_rig, rating)
    await click(slack_rig, "Yes, share my summary with my manager")
    await type_dm(slack_rig, f"<@{MANAGER}>")

    await command(slack_rig, "finale start", user_id=FACILITATOR, user_name="fay")
    assert any("is coming to an end" in p["text"] for p in dms(slack_rig, LEARNER))
    for rating in ("4", "4", "4", "5"):
        await click(slack_rig, rating)
    await click(slack_rig, "5")  # how valuable
    await click(slack_rig, "10")  # would recommend
    await type_dm(slack_rig, "Longer practice rounds")
    await command(slack_rig, "finale celebrate", user_id=FACILITATOR, user_name="fay")

    (post,) = await logged(slack_rig, "assessment.post")
    assert post.data == {
        "giving feedback": 4,
        "presenting": 4,
        "facilitation": 4,
        "coaching conversations": 5,
    }
    (completed,) = await logged(slack_rig, "program.completed")
    assert completed.person_id == post.person_id
    (evaluation,) = await logged(slack_rig, "evaluation.answered")
    assert evaluation.data == {"value": 5, "recommend": 10, "change": "Longer practice rounds"}
    (celebration,) = [
        p
        for p in slack_rig.slack.called("chat.postMessage")
        if p["channel"] == "C0COHORTA" and "is complete" in p["text"]
    ]
    assert "Completed: 1 of 1" in celebration["text"]
    assert "Average self-rating: 2.5 → 4.2 (+1.8, +70%) over 1 person" in celebration["text"]
    (summary,) = dms(slack_rig, MANAGER)
    assert "has completed Pilot cohort A" in summary["text"]
    assert "Self-rating: coaching conversations: 3 → 5" in summary["text"]
    (sent,) = await logged(slack_rig, "manager.summary_sent")
    assert sent.data == {"manager_id": manager_id}
