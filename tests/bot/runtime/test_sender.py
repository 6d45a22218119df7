"""Delivery through the outbox: retries, Retry-After, dead letters, order, limits, updates."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import CohortBot
from bot.model.messages import AudienceKind, Message, Target
from bot.model.ports import Rate, RateLimits
from bot.runtime.clock import ManualClock
from bot.runtime.effects import Effects
from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.fakes.chat_api import Failure, FakeChatClient, FakeChatServer
from tests.harness import demo_config


@dataclass
class Rig:
    bot: CohortBot
    clock: ManualClock
    platform: FakeChatServer


def channel(name: str) -> Target:
    return Target(platform="fake", workspace="w1", kind=AudienceKind.CHANNEL, channel_id=name)


async def rig_with(url: str, limits: RateLimits | None = None) -> AsyncIterator[Rig]:
    platform = FakeChatServer()
    server = TestServer(platform.app(), host="127.0.0.1", port=0)
    await server.start_server()
    client = FakeChatClient(server, limits)
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    config = demo_config(url)
    if limits is not None:  # a test of the limits themselves: pacing on
        sender = config.sender.model_copy(update={"pacing": True})
        config = config.model_copy(update={"sender": sender})
    bot = CohortBot(config, clock=clock, extra_clients={"fake": client})
    await bot.prepare()
    try:
        yield Rig(bot, clock, platform)
    finally:
        await bot.stop()
        await client.close()
        await server.close()


@pytest.fixture
async def rig(both_databases_url: str) -> AsyncIterator[Rig]:
    async for made in rig_with(both_databases_url):
        yield made


async def queue(rig: Rig, target: Target, *texts: str, ref_key: str | None = None) -> None:
    async with unit_of_work(rig.bot.sessions) as uow:
        effects = Effects(
            uow, source=f"test:{texts[0]}", now=rig.clock.now(), platforms=rig.bot.platforms
        )
        for text in texts:
            await effects.queue(target, Message(text=text), ref_key=ref_key)


async def statuses(rig: Rig) -> list[str]:
    async with unit_of_work(rig.bot.sessions) as uow:
        return list(
            await uow.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))
        )


async def test_a_429_holds_the_whole_workspace_until_retry_after(rig: Rig) -> None:
    rig.platform.fail_next(Failure(429, retry_after=30))
    await queue(rig, channel("A"), "a1", "a2", "a3")
    await queue(rig, channel("B"), "b1", "b2")

    await rig.bot.sender.drain_once()
    assert rig.platform.texts("fake:w1:A") == []
    assert rig.platform.texts("fake:w1:B") == ["b1"], "only what was already on its way"

    rig.clock.advance(timedelta(seconds=29))
    await rig.bot.sender.drain_once()
    assert rig.platform.texts("fake:w1:B") == ["b1"], "Retry-After holds every channel"

    for _ in range(5):
        rig.clock.advance(timedelta(seconds=2))
        await rig.bot.sender.drain_once()
    assert rig.platform.texts("fake:w1:A") == ["a1", "a2", "a3"], "order kept"
    assert rig.platform.texts("fake:w1:B") == ["b1", "b2"]
    assert await statuses(rig) == ["sent"] * 5


async def test_a_429_is_not_a_failed_attempt_and_never_dead_letters(rig: Rig) -> None:
    refusals = rig.bot.config.sender.max_attempts + 3
    rig.platform.fail_next(*[Failure(429, retry_after=1)] * refusals)
    await queue(rig, channel("A"), "patient")

    for _ in range(refusals + 1):
        await rig.bot.sender.drain_once()
        rig.clock.advance(timedelta(seconds=2))

    async with unit_of_work(rig.bot.sessions) as uow:
        row = await uow.session.scalar(select(OutboxMessage))
    assert row is not None
    assert (row.status, row.attempts) == ("sent", 1)
    assert rig.platform.texts("fake:w1:A") == ["patient"]


async def test_server_errors_back_off_and_nothing_is_lost(rig: Rig) -> None:
    rig.platform.fail_next(Failure(503), Failure(502), Failure(500))
    await queue(rig, channel("A"), *[f"m{n}" for n in range(6)])

    for _ in range(40):
        await rig.bot.sender.drain_once()
        rig.clock.advance(timedelta(seconds=5))

    assert rig.platform.texts("fake:w1:A") == [f"m{n}" for n in range(6)]
    async with unit_of_work(rig.bot.sessions) as uow:
        first = await uow.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
    assert first is not None
    assert first.attempts == 4


async def test_backoff_grows_between_attempts(rig: Rig) -> None:
    rig.platform.fail_next(*[Failure(500)] * 4)
    await queue(rig, channel("A"), "m")
    waits = []
    for _ in range(4):
        await rig.bot.sender.drain_once()
        async with unit_of_work(rig.bot.sessions) as uow:
            row = await uow.session.scalar(select(OutboxMessage))
        assert row is not None
        waits.append((row.next_attempt_at - rig.clock.now()).total_seconds())
        rig.clock.set(row.next_attempt_at)

    assert all(later > earlier for earlier, later in itertools.pairwise(waits))


async def test_permanent_failure_is_dead_lettered_and_the_channel_goes_on(rig: Rig) -> None:
    rig.platform.fail_next(Failure(400))
    await queue(rig, channel("A"), "bad", "good")

    await rig.bot.sender.drain_once()

    assert rig.platform.texts("fake:w1:A") == ["good"]
    assert await statuses(rig) == ["dead", "sent"]
    async with unit_of_work(rig.bot.sessions) as uow:
        dead = await uow.outbox.dead_letters()
    assert dead[0].last_error == "rejected with 400"


async def test_retries_stop_after_max_attempts(rig: Rig) -> None:
    attempts = rig.bot.config.sender.max_attempts
    rig.platform.fail_next(*[Failure(500)] * attempts)
    await queue(rig, channel("A"), "doomed")

    for _ in range(attempts + 2):
        await rig.bot.sender.drain_once()
        rig.clock.advance(timedelta(minutes=10))

    assert await statuses(rig) == ["dead"]
    assert rig.platform.calls == attempts


async def test_pending_updates_of_one_message_coalesce(rig: Rig) -> None:
    await queue(rig, channel("A"), "poll: 0 votes", ref_key="poll:1")
    await rig.bot.sender.drain_once()
    async with unit_of_work(rig.bot.sessions) as uow:
        effects = Effects(uow, source="votes", now=rig.clock.now(), platforms=rig.bot.platforms)
        for votes in range(1, 6):
            await effects.update("poll:1", Message(text=f"poll: {votes} votes"))

    await rig.bot.sender.drain_once()

    assert rig.platform.received[-1] == {
        "lane": "fake:w1:A",
        "text": "poll: 5 votes",
        "update_of": "r1",
        "thread_of": None,
    }
    assert len(rig.platform.received) == 2
    assert await statuses(rig) == [
        "sent",
        "superseded",
        "superseded",
        "superseded",
        "superseded",
        "sent",
    ]


async def test_lane_rate_limit_spreads_a_burst_over_time(sqlite_url: str) -> None:
    limits = RateLimits(per_lane=(Rate(burst=1, per_seconds=1.0),))
    async for rig in rig_with(sqlite_url, limits):
        await queue(rig, channel("A"), "1", "2", "3")

        await rig.bot.sender.drain_once()
        assert rig.platform.texts("fake:w1:A") == ["1"]
        await rig.bot.sender.drain_once()
        assert rig.platform.texts("fake:w1:A") == ["1"]
        rig.clock.advance(timedelta(seconds=1))
        await rig.bot.sender.drain_once()
        assert rig.platform.texts("fake:w1:A") == ["1", "2"]
        assert rig.bot.sender.next_wake == rig.clock.now() + timedelta(seconds=1)


async def test_each_send_is_recorded_before_the_next_one_starts(rig: Rig) -> None:
    await queue(rig, channel("A"), "one", "two", "three")
    seen: list[list[str]] = []

    async def look() -> None:
        seen.append(await statuses(rig))

    rig.platform.on_send = look

    assert await rig.bot.sender.drain_once() == 3
    assert seen == [
        ["sending", "pending", "pending"],
        ["sent", "sending", "pending"],
        ["sent", "sent", "sending"],
    ], "a crash between two sends repeats nothing already sent, and knows what was in flight"


async def test_stop_leaves_undelivered_messages_in_the_outbox(rig: Rig) -> None:
    await queue(rig, channel("A"), "kept")
    rig.bot.sender.stop()

    assert await rig.bot.sender.drain_once() == 0
    assert await statuses(rig) == ["pending"]


async def test_thread_reply_goes_under_the_sent_message(rig: Rig) -> None:
    await queue(rig, channel("A"), "escalation #4", ref_key="escalation:4")
    async with unit_of_work(rig.bot.sessions) as uow:
        effects = Effects(uow, source="ack", now=rig.clock.now(), platforms=rig.bot.platforms)
        assert await effects.thread("escalation:4", Message(text="Sam acknowledged")) == 1

    await rig.bot.sender.drain_once()

    assert rig.platform.received[-1]["thread_of"] == "r1"
    assert rig.platform.texts("fake:w1:A") == ["escalation #4", "Sam acknowledged"]
