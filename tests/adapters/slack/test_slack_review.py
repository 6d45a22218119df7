"""A peer review end to end over Slack: signed requests in, the fake Web API out, rows checked."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from flows.review.view import comment_field, score_field
from storage.models import ReviewAssignment, ReviewRequest
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload

AUTHOR = "U2147483697"
REVIEWERS = {"U0PRIYA": "priya", "U0JORDAN": "jordan"}
DECK = "https://example.com/deck"
SCORES = {"message": "4", "structure": "3", "delivery": "3", "call_to_action": "2"}


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post["blocks"]
    return list(blocks if isinstance(blocks, list) else json.loads(blocks))


def dm_posts(rig: SlackRig, user: str, text: str) -> list[dict[str, Any]]:
    return [
        p
        for p in rig.slack.called("chat.postMessage")
        if p["channel"] == user and text in p["text"]
    ]


def element(post: dict[str, Any], action_prefix: str, value: str | None = None) -> dict[str, Any]:
    for block in blocks_of(post):
        for found in block.get("elements", []):
            if str(found.get("action_id", "")).startswith(action_prefix) and (
                value is None or found.get("value") == value
            ):
                return dict(found)
    raise AssertionError(f"no {action_prefix} button in {post['text']!r}")


async def click(rig: SlackRig, user: str, button: dict[str, Any], trigger: str) -> None:
    body = payload("block_actions.json", trigger_id=trigger)
    body["user"] = {"id": user, "username": REVIEWERS.get(user, "alex"), "team_id": "T0001"}
    body["actions"] = [
        {**body["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    ]
    response = await rig.interaction(body)
    assert response.status == 200
    await rig.playground.bot.settle()


async def submit_view(
    rig: SlackRig, user: str, view: dict[str, Any], values: dict[str, str]
) -> None:
    body = payload("view_submission.json")
    body["user"] = {"id": user, "username": REVIEWERS[user], "team_id": "T0001"}
    body["view"] = {
        **body["view"],
        "id": f"V{user}",
        "callback_id": view["callback_id"],
        "state": {
            "values": {
                field: {field: {"type": "plain_text_input", "value": value}}
                for field, value in values.items()
            }
        },
    }
    response = await rig.interaction(body)
    assert response.status == 200
    await rig.playground.bot.settle()


async def test_a_slack_review_is_requested_scored_in_modals_compiled_and_rated(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await request_review(slack_rig)
    assert slack_rig.slack.ephemeral_texts()[-1].startswith("Review requested: I've asked")

    for index, user in enumerate(REVIEWERS):
        (invite,) = dm_posts(slack_rig, user, "asked you for a peer review")
        assert element(invite, "review.decline")["style"] == "danger"
        await click(slack_rig, user, element(invite, "review.start"), f"trigger-{index}")
        opened = slack_rig.slack.called("views.open")[-1]
        view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
        assert opened["trigger_id"] == f"trigger-{index}"
        assert view["callback_id"].startswith("review.form:")
        inputs = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
        assert inputs == {score_field(k) for k in SCORES} | {comment_field(k) for k in SCORES} | {
            "overall"
        }
        values = {score_field(k): v for k, v in SCORES.items()}
        await submit_view(slack_rig, user, view, {**values, "overall": f"Well done from {user}"})

    (compiled,) = dm_posts(slack_rig, AUTHOR, "Your peer reviews are in: 2 reviews")
    assert "Well done from U0PRIYA" in json.dumps(blocks_of(compiled))
    async with unit_of_work(bot.sessions) as uow:
        rows = list(
            await uow.session.scalars(select(ReviewAssignment).order_by(ReviewAssignment.id))
        )
        (request,) = list(await uow.session.scalars(select(ReviewRequest)))
    assert request.status == "complete"
    assert [r.status for r in rows] == ["submitted", "submitted"]
    assert rows[0].scores == {key: int(value) for key, value in SCORES.items()}

    rating = element(compiled, f"review.rate:{rows[0].id}", "4")
    await click(slack_rig, AUTHOR, rating, "trigger-rate")
    async with unit_of_work(bot.sessions) as uow:
        rated = await uow.reviews.assignment(rows[0].id)
    assert rated is not None
    assert rated.usefulness == 4


async def test_a_slack_request_naming_an_unknown_person_is_refused(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    for user, name in {AUTHOR: "alex", **REVIEWERS}.items():
        await slack_rig.command(
            "join pilot-a",
            user_id=user,
            user_name=name,
            channel_id=f"D{user}",
            trigger_id=f"join-{user}",
        )
    await bot.settle()
    await slack_rig.command(
        f"review request {DECK} <@U0NOBODY|nobody>", channel_id="C0COHORTA", trigger_id="request"
    )
    await bot.settle()

    assert slack_rig.slack.ephemeral_texts()[-1] == (
        "I don't know <@U0NOBODY> yet; they need to join Pilot cohort A first."
    )
    async with unit_of_work(bot.sessions) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReviewRequest)) == 0


async def request_review(rig: SlackRig) -> None:
    """The author and reviewers join by DM; the author requests a review of the deck."""
    bot = rig.playground.bot
    for who, name in {AUTHOR: "alex", **REVIEWERS}.items():
        await rig.command(
            "join pilot-a",
            user_id=who,
            user_name=name,
            channel_id=f"D{who}",
            channel_name="directmessage",
            trigger_id=f"join-{who}",
        )
    await bot.settle()
    await rig.command(f"review request {DECK}", channel_id="C0COHORTA", trigger_id="request")
    await bot.settle()


async def open_review_modal(rig: SlackRig, user: str) -> dict[str, Any]:
    await request_review(rig)
    (invite,) = dm_posts(rig, user, "asked you for a peer review")
    await click(rig, user, element(invite, "review.start"), "trigger-open")
    opened = rig.slack.called("views.open")[-1]
    return dict(opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"]))


async def test_rubric_scores_are_selects_in_the_slack_modal(slack_rig: SlackRig) -> None:
    view = await open_review_modal(slack_rig, "U0PRIYA")
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    score = inputs[score_field("structure")]
    assert score["element"]["type"] == "static_select"
    assert [o["value"] for o in score["element"]["options"]] == ["1", "2", "3", "4"]
    # The whole description, not a placeholder cut at 150 characters.
    assert score["hint"]["text"] == (
        "Opening, body and close are easy to follow and fit in 5 minutes."
    )


async def test_a_review_form_names_every_bad_score_and_stays_open(slack_rig: SlackRig) -> None:
    user = "U0PRIYA"
    view = await open_review_modal(slack_rig, user)
    body = payload("view_submission.json")
    body["user"] = {"id": user, "username": REVIEWERS[user], "team_id": "T0001"}
    values = {
        score_field("message"): "4",
        score_field("structure"): "9",  # not one of the options
        "overall": "   ",
    }  # delivery and call_to_action left unchosen
    body["view"] = {
        **body["view"],
        **view,
        "id": "VPRIYA",
        "state": {
            "values": {
                field: {field: {"type": "plain_text_input", "value": value}}
                for field, value in values.items()
            }
        },
    }
    response = await slack_rig.interaction(body)
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        score_field("structure"),
        score_field("delivery"),
        score_field("call_to_action"),
        "overall",
    }
    await slack_rig.playground.bot.settle()
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        rows = list(await uow.session.scalars(select(ReviewAssignment)))
    assert all(row.status != "submitted" and not row.scores for row in rows)
    assert not dm_posts(slack_rig, user, "Your review is in")
