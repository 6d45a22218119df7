"""Outbox delivery to Teams: channel posts, updates, threads, throttling and failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.teams.client import TEAMS_LIMITS
from bot.model.messages import Message, Section
from bot.model.ports import Rate
from bot.runtime.effects import Effects
from storage.models import Identity, OutboxMessage
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import CHANNEL, TENANT, TeamsRig, card_text
from tests.fakes.bot_connector import Failure

PERSONAL = "message_personal.json"


async def _outbox(rig: TeamsRig) -> list[OutboxMessage]:
    async with unit_of_work(rig.bot.sessions) as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.platform == "teams")
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def _say_help(rig: TeamsRig) -> str:
    message = rig.activity(PERSONAL, text="help")
    await rig.send(message)
    return str(message["conversation"]["id"])


async def _post_in_cohort_channel(rig: TeamsRig, text: str, *, ref_key: str) -> None:
    async with unit_of_work(rig.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        effects = Effects(uow, source="test:live", now=rig.clock.now(), platforms=rig.bot.platforms)
        await effects.channel(
            cohort.id, Message(text=text, blocks=[Section(text=text)]), ref_key=ref_key
        )
    await rig.bot.settle()


def test_teams_throttling_limits_are_declared() -> None:
    assert TEAMS_LIMITS.per_lane == (
        Rate(7, 1.0),
        Rate(8, 2.0),
        Rate(60, 30.0),
        Rate(1800, 3600.0),
    )
    assert TEAMS_LIMITS.start_rate == 20.0, "below the tenant's 50 a second; learned from there"


async def test_a_429_waits_for_retry_after_then_delivers(teams_rig: TeamsRig) -> None:
    teams_rig.fake.fail_next(Failure(429, retry_after="7", kind="send"))

    conversation = await _say_help(teams_rig)

    [row] = await _outbox(teams_rig)
    assert row.status == "pending"
    assert row.next_attempt_at == teams_rig.clock.now() + timedelta(seconds=7)
    assert row.last_error is not None
    assert "429" in row.last_error
    assert teams_rig.fake.messages() == []

    teams_rig.clock.advance(timedelta(seconds=6))
    await teams_rig.bot.settle()
    assert teams_rig.fake.messages() == [], "not before Retry-After"

    teams_rig.clock.advance(timedelta(seconds=1))
    await teams_rig.bot.settle()
    [row] = await _outbox(teams_rig)
    assert row.status == "sent"
    assert "Here's what you can ask me" in teams_rig.texts(conversation)[0]


async def _priya_says_help(rig: TeamsRig) -> str:
    """Another person of the same tenant, in their own personal chat: a reply to them."""
    message = rig.activity(
        PERSONAL,
        text="help",
        id="1763884800999",
        **{
            "from": {"id": "29:priya", "name": "Priya Raman", "aadObjectId": "aad-priya"},
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT,
                "id": "a:personal-chat-of-priya",
            },
        },
    )
    await rig.send(message)
    return str(message["conversation"]["id"])


async def _remind_zed_in_a_new_chat(rig: TeamsRig) -> str:
    """A proactive DM to another person of the tenant (its chat is created on the way)."""
    async with unit_of_work(rig.bot.sessions) as uow:
        person = await uow.people.ensure(
            IdentityFacts(platform="teams", workspace=TENANT, user_id="29:zed", display_name="Zed"),
            now=rig.clock.now(),
        )
        effects = Effects(uow, source="test:dm", now=rig.clock.now(), platforms=rig.bot.platforms)
        assert await effects.dm(person.id, Message(text="Your session starts in 1 hour."))
    await rig.bot.settle()
    return "a:personal-29:zed"


async def _poll_in_the_cohort_channel(rig: TeamsRig) -> str:
    """A scheduled-style post to the cohort's channel (no Teams event behind it)."""
    await _post_in_cohort_channel(rig, "*Poll:* who comes on Wednesday?", ref_key="poll-1")
    return CHANNEL


@pytest.mark.parametrize(
    "queue_elsewhere",
    [
        pytest.param(_priya_says_help, id="a reply to another person"),
        pytest.param(_remind_zed_in_a_new_chat, id="a proactive dm"),
        pytest.param(_poll_in_the_cohort_channel, id="a channel post"),
    ],
)
async def test_a_429_holds_every_conversation_in_the_tenant_until_retry_after(
    teams_rig: TeamsRig, queue_elsewhere: Callable[[TeamsRig], Awaitable[str]]
) -> None:
    teams_rig.fake.fail_next(Failure(429, retry_after="7", kind="send"))
    refused_in = await _say_help(teams_rig)

    elsewhere = await queue_elsewhere(teams_rig)

    assert elsewhere != refused_in
    [refused, held] = await _outbox(teams_rig)
    assert held.lane != refused.lane, "a conversation of its own, not queued behind the 429"
    assert held.next_attempt_at <= teams_rig.clock.now(), "due itself: only the tenant waits"
    assert (held.status, held.attempts) == ("pending", 0), "not even tried"
    assert len(teams_rig.fake.calls) == 0, "not even its chat created"
    assert len(teams_rig.fake.refused) == 1

    teams_rig.clock.advance(timedelta(seconds=6))
    await teams_rig.bot.settle()
    assert teams_rig.fake.calls == [], "nothing in the tenant before Retry-After"
    assert [row.status for row in await _outbox(teams_rig)] == ["pending", "pending"]

    teams_rig.clock.advance(timedelta(seconds=1))
    await teams_rig.bot.settle()
    assert teams_rig.fake.messages() != [], "the tenant is free again at Retry-After"
    # After a 429 the tenant is paced, even with pacing off: the rest follows shortly.
    teams_rig.clock.advance(timedelta(seconds=1))
    await teams_rig.bot.settle()
    assert [row.status for row in await _outbox(teams_rig)] == ["sent", "sent"]
    assert len(teams_rig.fake.messages(elsewhere)) == 1
    assert len(teams_rig.fake.messages(refused_in)) == 1
    assert len(teams_rig.fake.refused) == 1, "nothing was refused after the hold"


async def test_rate_limiting_alone_never_dead_letters_a_message(teams_rig: TeamsRig) -> None:
    refusals = teams_rig.bot.config.sender.max_attempts + 2
    teams_rig.fake.fail_next(*[Failure(429, retry_after="1", kind="send") for _ in range(refusals)])

    conversation = await _say_help(teams_rig)
    for refused in range(2, refusals + 1):
        teams_rig.clock.advance(timedelta(seconds=1))
        await teams_rig.bot.settle()
        assert len(teams_rig.fake.refused) == refused

    [row] = await _outbox(teams_rig)
    assert row.status == "pending"
    assert row.attempts == 0, "a 429 is not a failed attempt"
    assert row.last_error is not None
    assert "429" in row.last_error
    assert teams_rig.fake.messages() == []

    teams_rig.clock.advance(timedelta(seconds=1))
    await teams_rig.bot.settle()
    [row] = await _outbox(teams_rig)
    assert row.status == "sent"
    assert "Here's what you can ask me" in teams_rig.texts(conversation)[0]
    assert len(teams_rig.fake.refused) == refusals


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_a_transient_failure_is_retried_with_backoff(
    teams_rig: TeamsRig, status: int
) -> None:
    teams_rig.fake.fail_next(Failure(status, kind="send"))

    await _say_help(teams_rig)

    [row] = await _outbox(teams_rig)
    assert row.status == "pending"
    assert row.attempts == 1
    wait = (row.next_attempt_at - teams_rig.clock.now()).total_seconds()
    assert 0.75 <= wait <= 1.25, "the first backoff with jitter"

    teams_rig.clock.advance(timedelta(seconds=2))
    await teams_rig.bot.settle()
    [row] = await _outbox(teams_rig)
    assert row.status == "sent"
    assert len(teams_rig.fake.messages()) == 1, "botbuilder itself retried nothing"


@pytest.mark.parametrize("code", ["ConversationBlockedByUser", "BotNotInConversationRoster"])
async def test_a_blocked_bot_is_dead_lettered_and_the_person_marked_unreachable(
    teams_rig: TeamsRig, code: str
) -> None:
    teams_rig.fake.fail_next(Failure(403, code=code, kind="send"))

    message = teams_rig.activity(PERSONAL, text="help")
    await teams_rig.send(message)
    teams_rig.clock.advance(timedelta(hours=1))
    await teams_rig.bot.settle()

    [row] = await _outbox(teams_rig)
    assert row.status == "dead"
    assert row.attempts == 1, "never retried"
    assert row.last_error == f"teams: 403 {code}"
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        identity = await uow.session.scalar(
            select(Identity).where(Identity.platform_user_id == message["from"]["id"])
        )
    assert identity is not None
    assert identity.reachable is False


async def test_another_4xx_is_permanent_but_leaves_the_person_reachable(
    teams_rig: TeamsRig,
) -> None:
    teams_rig.fake.fail_next(Failure(400, code="BadArgument", kind="send"))

    await _say_help(teams_rig)

    [row] = await _outbox(teams_rig)
    assert row.status == "dead"
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        reachable = await uow.session.scalars(
            select(Identity.reachable).where(Identity.platform_user_id.startswith("29:"))
        )
        assert list(reachable) == [True]


async def test_a_channel_post_goes_to_the_cohort_channel(teams_rig: TeamsRig) -> None:
    await _post_in_cohort_channel(teams_rig, "*Poll:* who comes on Wednesday?", ref_key="poll-1")

    [post] = teams_rig.fake.messages(CHANNEL)
    assert post.kind == "send"
    assert "**Poll:** who comes on Wednesday?" in card_text(post.body)


async def test_an_update_replaces_the_sent_activity(teams_rig: TeamsRig) -> None:
    await _post_in_cohort_channel(teams_rig, "Votes: 0", ref_key="poll-1")
    [post] = teams_rig.fake.messages(CHANNEL)

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        effects = Effects(
            uow, source="test:update", now=teams_rig.clock.now(), platforms=teams_rig.bot.platforms
        )
        updated = await effects.update(
            "poll-1", Message(text="Votes: 3", blocks=[Section(text="Votes: 3")])
        )
    await teams_rig.bot.settle()

    assert updated == 2, "the playground's channel and the Teams channel"
    [update] = teams_rig.fake.of_kind("update")
    assert update.method == "PUT"
    assert (update.conversation_id, update.activity_id) == (CHANNEL, post.activity_id)
    assert "Votes: 3" in card_text(update.body)
    rows = await _outbox(teams_rig)
    assert rows[-1].status == "sent"
    assert rows[-1].platform_ref == rows[0].platform_ref


async def test_a_failed_update_is_retried_by_the_sender_not_by_botbuilder(
    teams_rig: TeamsRig,
) -> None:
    await _post_in_cohort_channel(teams_rig, "Votes: 0", ref_key="poll-1")
    teams_rig.fake.fail_next(Failure(503, kind="update"))

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        effects = Effects(
            uow, source="test:update", now=teams_rig.clock.now(), platforms=teams_rig.bot.platforms
        )
        await effects.update("poll-1", Message(text="Votes: 1"))
    await teams_rig.bot.settle()

    assert len(teams_rig.fake.refused) == 1, "one PUT, no blind retries inside botbuilder"
    assert teams_rig.fake.of_kind("update") == []
    teams_rig.clock.advance(timedelta(seconds=2))
    await teams_rig.bot.settle()
    [update] = teams_rig.fake.of_kind("update")
    assert update.body["text"] == "Votes: 1"


async def test_a_thread_reply_answers_the_parent_post_in_its_thread(teams_rig: TeamsRig) -> None:
    await _post_in_cohort_channel(teams_rig, "Session agenda", ref_key="agenda-1")
    [post] = teams_rig.fake.messages(CHANNEL)

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        effects = Effects(
            uow, source="test:thread", now=teams_rig.clock.now(), platforms=teams_rig.bot.platforms
        )
        await effects.thread("agenda-1", Message(text="Now: practice in pairs"))
    await teams_rig.bot.settle()

    [reply] = teams_rig.fake.of_kind("reply")
    assert reply.conversation_id == f"{CHANNEL};messageid={post.activity_id}"
    assert reply.body["replyToId"] == post.activity_id
    assert reply.body["text"] == "Now: practice in pairs"


async def test_an_ephemeral_reply_falls_back_to_the_thread_when_no_personal_chat_opens(
    teams_rig: TeamsRig,
) -> None:
    teams_rig.fake.fail_next(Failure(403, code="BotNotInConversationRoster", kind="create"))
    mention = teams_rig.activity(
        "message_channel_mention.json", text="<at>cohortbot</at> cohort cohorts"
    )

    await teams_rig.send(mention)

    [reply] = teams_rig.fake.of_kind("reply")
    assert reply.conversation_id == mention["conversation"]["id"]
    assert reply.activity_id != mention["id"]
    assert reply.body["replyToId"] == mention["id"]
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        reachable = await uow.session.scalar(
            select(Identity.reachable).where(Identity.platform_user_id == mention["from"]["id"])
        )
    assert reachable is True, "they are in the channel, just without a personal chat"


async def test_a_proactive_dm_before_any_traffic_creates_the_chat_on_the_configured_url(
    teams_rig: TeamsRig,
) -> None:
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        person = await uow.people.ensure(
            IdentityFacts(platform="teams", workspace=TENANT, user_id="29:zed", display_name="Zed"),
            now=teams_rig.clock.now(),
        )
        effects = Effects(
            uow, source="test:dm", now=teams_rig.clock.now(), platforms=teams_rig.bot.platforms
        )
        assert await effects.dm(person.id, Message(text="Your session starts in 1 hour."))
    await teams_rig.bot.settle()

    [created] = teams_rig.fake.of_kind("create")
    assert created.body["members"] == [{"id": "29:zed"}]
    [sent] = teams_rig.fake.messages("a:personal-29:zed")
    assert sent.body["text"] == "Your session starts in 1 hour."
