"""Polls over Slack: signed slash command and clicks in, real slack_sdk out, rows checked."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.model.roles import Role
from storage.models import Activity, Poll, PollVote
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload

CHANNEL = "C0COHORTA"
FACILITATOR = "UFACIL01"


async def add_people(rig: SlackRig, role: Role, *user_ids: str) -> dict[str, int]:
    """Slack users with a role in pilot-a; their person ids by Slack user id."""
    now = rig.playground.clock.now()
    found: dict[str, int] = {}
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        for user_id in user_ids:
            person = await uow.people.ensure(
                IdentityFacts(
                    platform="slack", workspace="T0001", user_id=user_id, display_name=user_id
                ),
                now=now,
            )
            await uow.cohorts.add_member(
                cohort_id=cohort.id, person_id=person.id, role=role, now=now
            )
            found[user_id] = person.id
    return found


def option_buttons(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in post["blocks"]
        for element in block.get("elements", [])
        if element.get("action_id", "").startswith("poll.vote")
    ]


def section_text(call: dict[str, Any]) -> str:
    """The text of every section of a chat.postMessage or chat.update call's blocks."""
    blocks = call["blocks"]
    if isinstance(blocks, str):  # form-encoded calls carry the blocks as JSON text
        blocks = json.loads(blocks)
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def click(user_id: str, post: dict[str, Any], button: dict[str, Any], n: int) -> dict[str, Any]:
    """A block_actions payload as Slack sends it when `user_id` clicks `button` on `post`."""
    body = payload("block_actions.json")
    body["user"] = {"id": user_id, "username": user_id, "name": user_id, "team_id": "T0001"}
    body["trigger_id"] = f"13345224609.{n}.poll"
    body["channel"] = {"id": CHANNEL, "name": "cohort-pilot-a"}
    body["container"] = {**body["container"], "channel_id": CHANNEL}
    body["actions"] = [
        {
            **body["actions"][0],
            "action_id": button["action_id"],
            "value": button["value"],
            "action_ts": f"1700000100.{n:06d}",
        }
    ]
    return body


async def post_poll(rig: SlackRig, text: str) -> dict[str, Any]:
    response = await rig.command(
        text, user_id=FACILITATOR, user_name="fay", channel_id=CHANNEL, trigger_id="1.2.poll"
    )
    assert response.status == 200
    await rig.playground.bot.settle()
    (post,) = [
        p
        for p in rig.slack.called("chat.postMessage")
        if p["channel"] == CHANNEL and p["text"].startswith("📊")
    ]
    return post


async def test_a_poll_runs_end_to_end_in_slack(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    await add_people(slack_rig, Role.FACILITATOR, FACILITATOR)
    voters = await add_people(slack_rig, Role.PARTICIPANT, "UVOTER1", "UVOTER2", "UVOTER3")

    post = await post_poll(slack_rig, 'poll "Next topic?" "Feedback" "Presenting" --closes 1h')
    buttons = option_buttons(post)
    assert [b["text"]["text"] for b in buttons] == ["Feedback", "Presenting"]
    assert "Poll #1 is posted" in slack_rig.slack.ephemeral_texts()[-1]

    picks = {"UVOTER1": 0, "UVOTER2": 1, "UVOTER3": 1}
    for n, (user_id, index) in enumerate(picks.items()):
        response = await slack_rig.interaction(click(user_id, post, buttons[index], n))
        assert response.status == 200
    await bot.settle()
    await slack_rig.playground.advance(timedelta(seconds=2))

    updates = [u for u in slack_rig.slack.called("chat.update") if u["channel"] == CHANNEL]
    assert len(updates) == 1, "three clicks in one window: one chat.update"
    live_ts = updates[0]["ts"]
    assert "*Presenting*\n`█████████████░░░░░░░` 2 (67%)" in section_text(updates[0])
    receipts = [
        body for body in slack_rig.slack.called("chat.postEphemeral") if body["user"] == "UVOTER2"
    ]
    assert [r["text"] for r in receipts] == [
        "Your vote: Presenting. Click again to change it until the poll closes."
    ]

    await slack_rig.command(
        "poll close", user_id=FACILITATOR, user_name="fay", channel_id=CHANNEL, trigger_id="3.4.x"
    )
    await bot.settle()
    await slack_rig.playground.advance(timedelta(seconds=3))  # Slack's per-channel pace

    closing = [u for u in slack_rig.slack.called("chat.update") if u["channel"] == CHANNEL][-1]
    assert "Closed · 3 voted." in closing["text"]
    assert "poll.vote" not in str(closing["blocks"]), "no buttons once closed"
    (results,) = [
        p for p in slack_rig.slack.called("chat.postMessage") if p["text"].startswith("Results")
    ]
    assert results["thread_ts"] == live_ts
    assert closing["ts"] == live_ts
    assert "Most chosen: Presenting (2)." in results["text"]
    async with unit_of_work(bot.sessions) as uow:
        poll = await uow.session.scalar(select(Poll))
        stored = list(await uow.session.scalars(select(PollVote)))
        closed = await uow.session.scalar(select(Activity).where(Activity.verb == "poll.closed"))
    assert poll is not None
    assert poll.closed_at is not None
    assert sorted((v.person_id, v.choices) for v in stored) == sorted(
        (voters[user], [index]) for user, index in picks.items()
    )
    assert closed is not None
    assert closed.data == {"votes": 3, "results": [1, 2]}


async def test_a_hundred_concurrent_slack_votes_count_and_coalesce(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    await add_people(slack_rig, Role.FACILITATOR, FACILITATOR)
    users = [f"UV{n:05d}" for n in range(100)]
    voters = await add_people(slack_rig, Role.PARTICIPANT, *users)
    post = await post_poll(slack_rig, 'poll "Pace?" "Slower" "Right" "Faster"')
    buttons = option_buttons(post)

    responses = await asyncio.gather(
        *(
            slack_rig.interaction(click(user, post, buttons[n % 3], n))
            for n, user in enumerate(users)
        )
    )
    assert [r.status for r in responses] == [200] * 100
    await bot.settle()
    await slack_rig.playground.advance(timedelta(seconds=2))

    async with unit_of_work(bot.sessions) as uow:
        poll = await uow.session.scalar(select(Poll))
        assert poll is not None
        counts, voted = await uow.polls.tally(poll)
        people = {v.person_id for v in await uow.polls.votes(poll.id)}
    assert (counts, voted) == ([34, 33, 33], 100)
    assert people == set(voters.values())
    updates = [u for u in slack_rig.slack.called("chat.update") if u["channel"] == CHANNEL]
    assert 1 <= len(updates) <= 3, f"{len(updates)} chat.update calls for 100 votes"
    assert "`███████░░░░░░░░░░░░░` 34 (34%)" in section_text(updates[-1])
    posts = [p for p in slack_rig.slack.called("chat.postMessage") if p["text"].startswith("📊")]
    assert len(posts) == 1, "one live message"


async def test_a_click_slack_delivers_twice_toggles_a_multi_choice_option_once(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    await add_people(slack_rig, Role.FACILITATOR, FACILITATOR)
    await add_people(slack_rig, Role.PARTICIPANT, "UVOTER1")
    post = await post_poll(slack_rig, 'poll "Tools?" "Miro" "Notion" --multi')
    notion = option_buttons(post)[1]

    same_click = click("UVOTER1", post, notion, 7)
    first = await slack_rig.interaction(same_click)
    again = await slack_rig.interaction(same_click)  # Slack's retry of the same trigger
    await bot.settle()

    assert (first.status, again.status) == (200, 200)
    async with unit_of_work(bot.sessions) as uow:
        (vote,) = list(await uow.session.scalars(select(PollVote)))
        voted = list(
            await uow.session.scalars(select(Activity).where(Activity.verb == "poll.voted"))
        )
    assert vote.choices == [1], "processed once: a second toggle would have removed it"
    assert len(voted) == 1
