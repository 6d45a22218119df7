"""A peer review in Teams: cards in personal chats, the rubric as an inline card form."""

from __future__ import annotations

from itertools import count
from typing import Any

from sqlalchemy import select

from flows.review.view import score_field
from storage.models import ReviewAssignment
from tests.adapters.teams.conftest import TeamsRig, card_actions, card_text, find_action

PERSONAL = "message_personal.json"
PEOPLE = {"alex": "Alex Schneider", "priya": "Priya Raman", "jordan": "Jordan Lee"}
SCORES = {"message": "3", "structure": "4", "delivery": "2", "call_to_action": "3"}
_IDS = count(1763885000000)


def _from(handle: str) -> dict[str, Any]:
    return {"id": f"29:{handle}", "name": PEOPLE[handle], "aadObjectId": f"aad-{handle}"}


def _chat(rig: TeamsRig, handle: str) -> dict[str, Any]:
    base = rig.activity(PERSONAL)["conversation"]
    return {**base, "id": f"a:personal-{handle}"}


async def say(rig: TeamsRig, handle: str, text: str) -> None:
    await rig.send(
        rig.activity(
            PERSONAL,
            text=text,
            id=str(next(_IDS)),
            conversation=_chat(rig, handle),
            **{"from": _from(handle)},
        )
    )


async def submit(rig: TeamsRig, handle: str, data: dict[str, Any]) -> None:
    await rig.send(
        rig.activity(
            "message_action_submit.json",
            id=str(next(_IDS)),
            value=data,
            conversation=_chat(rig, handle),
            **{"from": _from(handle)},
        )
    )


def last_card(rig: TeamsRig, handle: str, text: str) -> dict[str, Any]:
    """The newest card to the person with `text`, in their chat or one the bot opened to them."""
    chats = (f"a:personal-{handle}", f"a:personal-{_from(handle)['id']}")
    found = [
        m.body
        for m in rig.fake.messages()
        if m.conversation_id in chats and text in card_text(m.body)
    ]
    assert found, rig.texts(chats[0])
    return found[-1]


async def test_a_teams_review_is_scored_in_a_card_form_and_compiled_for_the_author(
    teams_rig: TeamsRig,
) -> None:
    for handle in PEOPLE:
        await say(teams_rig, handle, "cohort join pilot-a")
    await say(teams_rig, "alex", "cohort review request https://example.com/deck")
    assert "I've asked Priya Raman and Jordan Lee." in teams_rig.texts("a:personal-alex")[-1]

    for handle in ("priya", "jordan"):
        invite = last_card(teams_rig, handle, "asked you for a peer review")
        await submit(teams_rig, handle, find_action(invite, "Review now")["data"])
        form = last_card(teams_rig, handle, "What to review")
        (send,) = [a for a in card_actions(form) if a["title"] == "Submit"]
        assert send["data"]["cohortbot"]["form"].startswith("review.form:")
        inputs = {score_field(key): value for key, value in SCORES.items()}
        await submit(teams_rig, handle, {**send["data"], **inputs, "overall": f"Nice, {handle}"})

    compiled = last_card(teams_rig, "alex", "Your peer reviews are in: 2 reviews")
    text = card_text(compiled)
    assert "Clear message: 3.0 of 4 (3, 3)" in text
    assert "Nice, priya" in text
    assert "Nice, jordan" in text
    async with teams_rig.bot.sessions() as session:
        rows = list(await session.scalars(select(ReviewAssignment)))
    assert [row.status for row in rows] == ["submitted", "submitted"]
    assert rows[0].scores == {key: int(value) for key, value in SCORES.items()}
