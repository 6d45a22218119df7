"""Badges over Slack: signed slash commands and events in, the fake Web API out, rows checked."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Activity, BadgeAward
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload
from tests.adapters.slack.test_slack_session import FACILITATOR, LEARNER, make_facilitator


def trigger(name: str) -> str:
    """Slack gives every slash command its own trigger id (the inbox deduplicates by it)."""
    return f"13345224609.738474920.{name}"


async def learner_joins(rig: SlackRig) -> None:
    await rig.command("join pilot-a", channel_id="D2147483697", channel_name="directmessage")
    await rig.playground.bot.settle()


async def stored_awards(rig: SlackRig) -> list[BadgeAward]:
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(BadgeAward)))


async def test_a_facilitator_awards_a_badge_from_slack_announced_in_the_channel_and_by_dm(
    slack_rig: SlackRig,
) -> None:
    bot = slack_rig.playground.bot
    facilitator_id = await make_facilitator(slack_rig, FACILITATOR)
    await learner_joins(slack_rig)

    response = await slack_rig.command(
        f"badge award <@{LEARNER}|alex> session-host for hosting the demo",
        user_id=FACILITATOR,
        user_name="fay",
        trigger_id=trigger("award"),
    )
    await bot.settle()

    assert response.status == 200
    (award,) = await stored_awards(slack_rig)
    assert (award.badge, award.source, award.awarded_by, award.reason) == (
        "session-host",
        "manual",
        facilitator_id,
        "for hosting the demo",
    )
    async with unit_of_work(bot.sessions) as uow:
        (logged,) = await uow.session.scalars(
            select(Activity).where(Activity.verb == "badge.awarded")
        )
    assert (logged.person_id, logged.object) == (award.person_id, "badge:session-host")
    posts = slack_rig.slack.called("chat.postMessage")
    (announced,) = [p for p in posts if p["channel"] == "C0COHORTA"]
    assert announced["text"] == (
        "\U0001f3c5 fay awarded alex the *Session host* badge: for hosting the demo"
    )
    assert any(
        p["channel"] == LEARNER and "You earned the *Session host* badge" in p["text"]
        for p in posts
    )
    assert "Awarded the Session host badge to alex." in slack_rig.slack.ephemeral_texts()


async def test_a_participant_cannot_award_badges_from_slack(slack_rig: SlackRig) -> None:
    await make_facilitator(slack_rig, FACILITATOR)
    await learner_joins(slack_rig)

    await slack_rig.command(
        f"badge award <@{FACILITATOR}|fay> session-host", trigger_id=trigger("award")
    )
    await slack_rig.playground.bot.settle()

    assert any(
        text.startswith("Only a facilitator or a program owner")
        for text in slack_rig.slack.ephemeral_texts()
    )
    assert await stored_awards(slack_rig) == []


async def test_a_refusal_mentions_staff_known_by_id_alone_instead_of_naming_the_id(
    slack_rig: SlackRig,
) -> None:
    await make_facilitator(slack_rig, FACILITATOR, name="")
    await learner_joins(slack_rig)

    await slack_rig.command(f"badge award <@{LEARNER}|alex> session-host", trigger_id=trigger("a"))
    await slack_rig.playground.bot.settle()

    (refusal,) = [t for t in slack_rig.slack.ephemeral_texts() if t.startswith("Only a")]
    assert f"Ask <@{FACILITATOR}>, Dana Fischer" in refusal, refusal
    assert "UFACIL01," not in refusal.replace(f"<@{FACILITATOR}>", "")


async def test_the_slack_app_home_shows_badges_and_kudos(slack_rig: SlackRig) -> None:
    await make_facilitator(slack_rig, FACILITATOR)
    await learner_joins(slack_rig)
    await slack_rig.command(
        f"badge award <@{LEARNER}|alex> program-completed",
        user_id=FACILITATOR,
        user_name="fay",
        trigger_id=trigger("award"),
    )
    await slack_rig.command(
        f"kudos <@{LEARNER}|alex> for the demo",
        user_id=FACILITATOR,
        user_name="fay",
        trigger_id=trigger("kudos"),
    )
    await slack_rig.playground.bot.settle()

    await slack_rig.event(payload("event_app_home_opened.json"))
    await slack_rig.playground.bot.settle()

    (published,) = slack_rig.slack.called("views.publish")
    assert published["user_id"] == LEARNER
    view = (
        published["view"] if isinstance(published["view"], dict) else json.loads(published["view"])
    )
    text = json.dumps(view, ensure_ascii=False)
    assert "Badges" in text
    assert "\U0001f3c5 Pilot graduate" in text
    assert "Kudos received" in text


async def test_a_kudos_cannot_carry_a_disguised_link_or_notify_the_whole_channel(
    slack_rig: SlackRig,
) -> None:
    await make_facilitator(slack_rig, FACILITATOR)
    await learner_joins(slack_rig)
    await slack_rig.command(
        f"kudos <@{LEARNER}|alex> <!channel> please fill "
        "<https://evil.example/steal|https://slack.com/official-survey>",
        user_id=FACILITATOR,
        user_name="fay",
        trigger_id=trigger("kudos"),
    )
    await slack_rig.playground.bot.settle()

    posted = json.dumps(slack_rig.slack.called("chat.postMessage"), ensure_ascii=False)
    assert "please fill" in posted
    assert "https://slack.com/official-survey (<https://evil.example/steal>)" in posted
    assert "|https://slack.com/official-survey>" not in posted
    assert "<!channel>" not in posted
    assert "@channel" in posted
