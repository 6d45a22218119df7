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


async def open_review_card(rig: TeamsRig, handle: str) -> dict[str, Any]:
    for who in PEOPLE:
        await say(rig, who, "cohort join pilot-a")
    await say(rig, "alex", "cohort review request https://example.com/deck")
    invite = last_card(rig, handle, "asked you for a peer review")
    await submit(rig, handle, find_action(invite, "Review now")["data"])
    return last_card(rig, handle, "What to review")


def card_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    body = card["attachments"][0]["content"]["body"] if "attachments" in card else card["body"]
    return {e["id"]: e for e in body if str(e.get("type", "")).startswith("Input.")}


async def test_rubric_scores_are_choice_sets_in_the_teams_card(teams_rig: TeamsRig) -> None:
    form = await open_review_card(teams_rig, "priya")
    score = card_inputs(form)[score_field("structure")]
    assert score["type"] == "Input.ChoiceSet"
    assert [c["value"] for c in score["choices"]] == ["1", "2", "3", "4"]
    assert "Opening, body and close are easy to follow and fit in 5 minutes." in card_text(form)


async def test_a_bad_teams_review_card_is_shown_again_with_every_bad_field_named(
    teams_rig: TeamsRig,
) -> None:
    form = await open_review_card(teams_rig, "priya")
    (send,) = [a for a in card_actions(form) if a["title"] == "Submit"]
    data = {
        **send["data"],
        score_field("message"): "3",
        score_field("structure"): "7",
        "overall": "  ",
    }
    invoke = teams_rig.activity(
        "invoke_adaptive_card_action.json",
        id=str(next(_IDS)),
        value={"action": {"type": "Action.Execute", "verb": send["verb"], "data": data}},
        conversation=_chat(teams_rig, "priya"),
        **{"from": _from("priya")},
    )
    inbox_before = await teams_rig.inbox_count()
    response = await teams_rig.send(invoke)
    answer = await response.json()

    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    card = answer["value"]
    inputs = card_inputs(card)
    assert inputs[score_field("message")]["value"] == "3"  # what was entered stays
    errors = [e for e in card["body"] if e.get("color") == "Attention"]
    assert len(errors) == 4  # structure, delivery, call to action, overall
    assert await teams_rig.inbox_count() == inbox_before  # nothing recorded
    async with teams_rig.bot.sessions() as session:
        rows = list(await session.scalars(select(ReviewAssignment)))
    assert all(row.status != "submitted" for row in rows)


async def test_a_bad_review_card_sent_by_action_submit_is_replaced_with_its_errors(
    teams_rig: TeamsRig,
) -> None:
    form = await open_review_card(teams_rig, "priya")
    (send,) = [a for a in card_actions(form) if a["title"] == "Submit"]
    data = {**send["data"], score_field("message"): "3", "overall": "  "}
    inbox_before = await teams_rig.inbox_count()

    await teams_rig.send(
        teams_rig.activity(
            "message_action_submit.json",
            id=str(next(_IDS)),
            value=data,
            replyToId="1700000000042",
            conversation=_chat(teams_rig, "priya"),
            **{"from": _from("priya")},
        )
    )

    (update,) = [u for u in teams_rig.fake.of_kind("update") if u.activity_id == "1700000000042"]
    card = update.body["attachments"][0]["content"]
    assert card_inputs(card)[score_field("message")]["value"] == "3", "what was entered stays"
    assert len([e for e in card["body"] if e.get("color") == "Attention"]) == 4
    assert await teams_rig.inbox_count() == inbox_before, "nothing recorded"
