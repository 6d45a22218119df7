"""The finale reaches a Teams participant the same way: cards out, card clicks and chat in."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from sqlalchemy import select

from storage.models import Activity
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import CHANNEL, TeamsRig, find_action
from tests.harness import CHANNEL as LOCAL_CHANNEL

_ids = count(1763885000000)


async def delivered(rig: TeamsRig) -> None:
    """Let the sender's per-conversation rate limit pass, so every queued message goes out."""
    await rig.bot.settle()
    rig.clock.advance(timedelta(minutes=1))
    await rig.bot.settle()


async def type_in_chat(rig: TeamsRig, text: str) -> str:
    message = rig.activity("message_personal.json", text=text, id=str(next(_ids)))
    await rig.send(message)
    await delivered(rig)
    return str(message["conversation"]["id"])


async def click(rig: TeamsRig, conversation: str, title: str) -> None:
    """Press a button of the latest card in the chat (Action.Submit)."""
    card = rig.fake.messages(conversation)[-1].body
    action = find_action(card, title)
    submit = rig.activity("message_action_submit.json", id=str(next(_ids)), value=action["data"])
    await rig.send(submit)
    await delivered(rig)


async def facilitator_says(rig: TeamsRig, text: str) -> None:
    """Dana, the facilitator, types a command in the cohort's playground channel."""
    body: dict[str, Any] = {
        "person": "dana",
        "where": "channel",
        "channel_id": LOCAL_CHANNEL,
        "text": text,
    }
    response = await rig.http.post("/playground/api/say", json=body)
    assert response.status == 200
    await delivered(rig)


async def logged(rig: TeamsRig, verb: str) -> list[Activity]:
    async with unit_of_work(rig.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


async def test_a_teams_participant_answers_the_closing_survey_and_the_channel_celebrates(
    teams_rig: TeamsRig,
) -> None:
    chat = await type_in_chat(teams_rig, "cohort join pilot-a")
    await facilitator_says(teams_rig, "/cohort finale start")

    assert any("is coming to an end" in text for text in teams_rig.texts(chat))
    for rating in ("3", "4", "3", "4"):
        await click(teams_rig, chat, rating)
    await click(teams_rig, chat, "5")  # how valuable
    await click(teams_rig, chat, "7")  # would recommend
    await type_in_chat(teams_rig, "Shorter sessions")
    await facilitator_says(teams_rig, "/cohort finale celebrate")

    (post,) = await logged(teams_rig, "assessment.post")
    assert list(post.data.values()) == [3, 4, 3, 4]
    (completed,) = await logged(teams_rig, "program.completed")
    assert completed.person_id == post.person_id
    (evaluation,) = await logged(teams_rig, "evaluation.answered")
    assert evaluation.data == {"value": 5, "recommend": 7, "change": "Shorter sessions"}
    (celebration,) = [t for t in teams_rig.texts(CHANNEL) if "is complete" in t]
    assert "Completed: 1 of 1" in celebration
    assert "Average self-rating: no before-and-after self-ratings yet" in celebration
