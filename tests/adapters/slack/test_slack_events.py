"""Slack traffic over HTTP: signed requests in, real slack_sdk calls out to the fake API."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.model.events import FlaggedMessage, InboundEvent
from bot.model.messages import Message, Section
from bot.runtime.effects import Effects
from storage.models import FlowRun, InboxEvent
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload, sign
from tests.fakes.slack_api import BOT_USER, Scripted


async def inbox_rows(rig: SlackRig) -> int:
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        return int(await uow.session.scalar(select(func.count(InboxEvent.id))) or 0)


async def test_signed_help_command_is_acknowledged_and_answered_ephemerally(
    slack_rig: SlackRig,
) -> None:
    response = await slack_rig.command("help")
    await slack_rig.playground.bot.settle()

    assert response.status == 200
    (reply,) = slack_rig.slack.responses
    assert reply[1]["response_type"] == "ephemeral"
    assert "/cohort join <cohort>" in reply[1]["text"].replace("&lt;", "<").replace("&gt;", ">")
    assert await inbox_rows(slack_rig) == 1


async def test_forged_signature_is_refused_and_nothing_recorded(slack_rig: SlackRig) -> None:
    body = "token=x&command=%2Fcohort&text=help&user_id=U1&team_id=T0001&trigger_id=t1"
    forged = await slack_rig.post(
        body, "application/x-www-form-urlencoded", sign(body, secret="wrong")
    )
    missing = await slack_rig.post(body, "application/x-www-form-urlencoded", {})

    assert (forged.status, missing.status) == (401, 401)
    assert await inbox_rows(slack_rig) == 0


async def test_request_older_than_five_minutes_is_refused(slack_rig: SlackRig) -> None:
    body = "token=x&command=%2Fcohort&text=help&user_id=U1&team_id=T0001&trigger_id=t1"
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    response = await slack_rig.post(body, "application/x-www-form-urlencoded", stale)

    assert response.status == 401
    assert await inbox_rows(slack_rig) == 0


async def test_url_verification_is_answered_with_the_challenge(slack_rig: SlackRig) -> None:
    challenge = payload("url_verification.json")
    response = await slack_rig.event(challenge)

    assert response.status == 200
    assert challenge["challenge"] in await response.text()


async def test_dm_delivered_three_times_by_retries_is_answered_once(slack_rig: SlackRig) -> None:
    envelope = payload("event_message_im.json")
    first = await slack_rig.event(envelope)
    retry1 = await slack_rig.event(
        envelope, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    retry2 = await slack_rig.event(
        envelope, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    )
    await slack_rig.playground.bot.settle()

    assert [r.status for r in (first, retry1, retry2)] == [200, 200, 200]
    posts = slack_rig.slack.called("chat.postMessage")
    assert len(posts) == 1
    assert posts[0]["channel"] == "U2147483697", "DMs go to the user id, no conversations.open"
    assert slack_rig.slack.called("conversations.open") == []
    assert await inbox_rows(slack_rig) == 1


async def test_an_event_is_in_the_inbox_before_slack_gets_its_answer(
    slack_rig: SlackRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events API deliveries too: bolt must not acknowledge them before they are recorded."""
    inbox = slack_rig.playground.bot.dispatcher._intake._inbox
    record = inbox._write

    async def slow_record(events: list[InboundEvent]) -> list[int | None]:
        await asyncio.sleep(0.3)  # a busy database
        return await record(events)

    monkeypatch.setattr(inbox, "_write", slow_record)
    response = await slack_rig.event(payload("event_message_im.json"))

    assert response.status == 200
    assert await inbox_rows(slack_rig) == 1


async def test_bot_own_messages_are_ignored(slack_rig: SlackRig) -> None:
    envelope = payload("event_message_im.json")
    envelope["event"] = {**envelope["event"], "user": BOT_USER, "bot_id": "BBOT"}
    await slack_rig.event(envelope)
    await slack_rig.playground.bot.settle()

    assert slack_rig.slack.called("chat.postMessage") == []


async def test_mention_in_channel_gets_an_ephemeral_answer(slack_rig: SlackRig) -> None:
    await slack_rig.event(payload("event_app_mention.json"))
    await slack_rig.playground.bot.settle()

    (ephemeral,) = slack_rig.slack.called("chat.postEphemeral")
    assert ephemeral["channel"] == "C0COHORTA"
    assert ephemeral["user"] == "U2147483697"
    assert "/cohort help" in ephemeral["text"]


async def test_join_by_command_then_button_click_answers_the_flow(slack_rig: SlackRig) -> None:
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await slack_rig.playground.bot.settle()
    question = slack_rig.slack.called("chat.postMessage")[-1]
    button = question["blocks"][1]["elements"][0]
    assert button["action_id"].startswith("flow.answer#")

    click = payload("block_actions.json")
    click["actions"] = [
        {**click["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    ]
    response = await slack_rig.interaction(click)
    await slack_rig.playground.bot.settle()

    assert response.status == 200
    next_question = slack_rig.slack.called("chat.postMessage")[-1]
    assert next_question["text"] == "What is your main area of knowledge?"
    assert next_question["channel"] == "U2147483697"
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        run = await uow.session.scalar(select(FlowRun))
    assert run is not None
    assert (run.step, run.data["time_zone"]) == ("area", "UTC")


async def test_form_in_a_modal_round_trips_to_the_flow(slack_rig: SlackRig) -> None:
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await slack_rig.playground.bot.settle()
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        run = await uow.session.scalar(select(FlowRun))
    assert run is not None

    submission = payload("view_submission.json")
    submission["view"]["callback_id"] = f"{run.id}:time_zone:"
    response = await slack_rig.interaction(submission)
    await slack_rig.playground.bot.settle()

    assert response.status == 200
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        done = await uow.flow_runs.get(run.id)
    assert done is not None
    assert (done.step, done.data["time_zone"]) == ("area", "Asia/Kolkata")


async def test_app_home_shows_the_person_cohorts(slack_rig: SlackRig) -> None:
    await slack_rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await slack_rig.event(payload("event_app_home_opened.json"))
    await slack_rig.playground.bot.settle()

    (published,) = slack_rig.slack.called("views.publish")
    assert published["user_id"] == "U2147483697"
    text = str(published["view"])
    assert "Pilot cohort A" in text
    assert "Next session" in text
    assert "time zone" in text, "the open question is listed as waiting"


async def test_rate_limited_post_waits_for_retry_after(slack_rig: SlackRig) -> None:
    slack_rig.slack.fail_next("chat.postMessage", Scripted(status=429, retry_after=42))
    await slack_rig.event(payload("event_message_im.json"))
    await slack_rig.playground.bot.settle()
    assert slack_rig.slack.called("chat.postMessage") == []

    clock = slack_rig.playground.clock
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        (row,) = await uow.outbox.pending(10)
    assert (row.next_attempt_at - clock.now()).total_seconds() == 42

    await slack_rig.playground.advance(row.next_attempt_at - clock.now())
    assert len(slack_rig.slack.called("chat.postMessage")) == 1


async def test_flag_shortcut_is_acknowledged_and_recorded(slack_rig: SlackRig) -> None:
    response = await slack_rig.interaction(payload("message_shortcut.json"))

    assert response.status == 200
    async with unit_of_work(slack_rig.playground.bot.sessions) as uow:
        row = await uow.session.scalar(select(InboxEvent))
    assert row is not None
    assert row.payload["action_id"] == "moderation.flag"
    flagged = FlaggedMessage.model_validate_json(row.payload["value"])
    assert (flagged.text, flagged.author_id, flagged.ref) == (
        "an unkind remark",
        "U0OTHER",
        "C0COHORTA:1547766101.000300",
    )
    assert flagged.link == "https://acme.slack.com/archives/C0COHORTA/p1547766101000300"


async def test_live_message_is_updated_with_chat_update(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    async with unit_of_work(bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        effects = Effects(
            uow, source="poll", now=slack_rig.playground.clock.now(), platforms=bot.platforms
        )
        await effects.channel(cohort.id, Message(text="0 votes"), ref_key="poll:1")
    await bot.settle()
    async with unit_of_work(bot.sessions) as uow:
        effects = Effects(
            uow, source="vote", now=slack_rig.playground.clock.now(), platforms=bot.platforms
        )
        await effects.update("poll:1", Message(text="1 vote"))
    await bot.settle()

    (post,) = [p for p in slack_rig.slack.called("chat.postMessage") if p["channel"] == "C0COHORTA"]
    (update,) = slack_rig.slack.called("chat.update")
    assert (update["channel"], update["text"]) == ("C0COHORTA", "1 vote")
    assert post["text"] == "0 votes"
    assert update["ts"].startswith("1700000000.")


async def test_long_message_is_posted_in_parts(slack_rig: SlackRig) -> None:
    bot = slack_rig.playground.bot
    async with unit_of_work(bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        effects = Effects(
            uow, source="long", now=slack_rig.playground.clock.now(), platforms=bot.platforms
        )
        blocks = [Section(text=f"line {n}") for n in range(54)] + [Section(text="y " * 2500)]
        await effects.channel(cohort.id, Message(text="digest", blocks=blocks))
    await bot.settle()

    posts = [p for p in slack_rig.slack.called("chat.postMessage") if p["channel"] == "C0COHORTA"]
    assert [len(p["blocks"]) for p in posts] == [50, 6]
    assert all(len(b["text"]["text"]) <= 3000 for p in posts for b in p["blocks"])
