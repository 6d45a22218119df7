"""The fake Slack Web API's posting limits, counters and message history.

Driven with the real slack_sdk AsyncWebClient, as the bot drives it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlack, Scripted


@dataclass
class Rig:
    fake: FakeSlack
    api: TestServer
    web: AsyncWebClient


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    fake = FakeSlack()
    api = TestServer(fake.app(), host="127.0.0.1", port=0)
    await api.start_server()
    try:
        yield Rig(fake, api, AsyncWebClient(token="xoxb-test", base_url=str(api.make_url("/api/"))))
    finally:
        await api.close()


async def refused(call: Awaitable[object]) -> int:
    """The Retry-After of a call the fake must refuse with 429 ratelimited."""
    with pytest.raises(SlackApiError) as caught:
        await call
    response = caught.value.response
    assert response.status_code == 429
    assert response.data == {"ok": False, "error": "ratelimited"}
    return int(response.headers["Retry-After"])


async def test_no_limits_by_default(rig: Rig) -> None:
    for _ in range(20):
        await rig.web.chat_postMessage(channel="C1", text="hi")
    assert rig.fake.accepted["chat.postMessage"] == 20
    assert rig.fake.refused == {}
    assert rig.fake.share_refused() == 0.0


async def test_token_bucket_refuses_above_its_rate_with_retry_after(rig: Rig) -> None:
    rig.fake.limit_workspace(4.0, burst_seconds=0.5)  # holds 2, refills one per 0.25 s
    await rig.web.chat_postMessage(channel="C1", text="one")
    await rig.web.conversations_open(users="U1,U2")  # posting methods share the bucket
    assert await refused(rig.web.chat_postMessage(channel="C2", text="three")) == 1
    assert await refused(rig.web.views_publish(user_id="U1", view={"type": "home"})) == 1
    await rig.web.auth_test()  # not a posting method
    await asyncio.sleep(0.3)
    await rig.web.chat_postMessage(channel="C3", text="refilled")

    fake = rig.fake
    assert fake.accepted == {"chat.postMessage": 2, "conversations.open": 1, "auth.test": 1}
    assert fake.refused == {"chat.postMessage": 1, "views.publish": 1}
    assert len(fake.accepted_times) == 2
    assert fake.accepted_times[1] - fake.accepted_times[0] >= 0.25
    assert fake.share_refused() == pytest.approx(2 / 5)
    assert [call["text"] for call in fake.called("chat.postMessage")] == ["one", "refilled"]


async def test_token_bucket_retry_after_rounds_up_the_wait(rig: Rig) -> None:
    rig.fake.limit_workspace(0.4, burst_seconds=2.5)  # holds one post, the next in 2.5 s
    await rig.web.chat_postMessage(channel="C1", text="one")
    assert await refused(rig.web.chat_postMessage(channel="C1", text="two")) == 3


async def test_sliding_window_refuses_when_full(rig: Rig) -> None:
    rig.fake.limit_workspace_window(2, per_seconds=0.4)
    await rig.web.chat_postMessage(channel="C1", text="one")
    await rig.web.views_open(trigger_id="t1", view={"type": "modal"})
    assert await refused(rig.web.chat_postEphemeral(channel="C1", user="U1", text="x")) == 1
    assert await refused(rig.web.chat_update(channel="C1", ts="1.0", text="y")) == 1
    await asyncio.sleep(0.45)
    await rig.web.chat_postMessage(channel="C1", text="after the window")
    assert rig.fake.refused == {"chat.postEphemeral": 1, "chat.update": 1}
    assert rig.fake.accepted["chat.postMessage"] == 2


async def test_long_window_retry_after_is_the_time_until_a_slot_frees(rig: Rig) -> None:
    rig.fake.limit_workspace_window(1, per_seconds=30.0)
    await rig.web.chat_postMessage(channel="C1", text="one")
    assert await refused(rig.web.chat_postMessage(channel="C2", text="two")) == 30


async def test_per_channel_limit(rig: Rig) -> None:
    rig.fake.limit_per_channel(0.3)
    await rig.web.chat_postMessage(channel="C1", text="one")
    assert await refused(rig.web.chat_postMessage(channel="C1", text="too soon")) == 1
    await rig.web.chat_postMessage(channel="C2", text="other channel")
    await rig.web.chat_postMessage(channel="U7", text="a DM")
    assert await refused(rig.web.chat_postMessage(channel="D7", text="the same DM")) == 1
    await rig.web.chat_update(channel="C1", ts="1.0", text="updates are not per-channel")
    await asyncio.sleep(0.35)
    await rig.web.chat_postMessage(channel="C1", text="later")
    assert rig.fake.refused == {"chat.postMessage": 2}
    assert [m["text"] for m in rig.fake.posts_to("C1")] == ["one", "later"]


async def test_per_channel_refusal_costs_no_workspace_post(rig: Rig) -> None:
    rig.fake.limit_per_channel(10.0)
    rig.fake.limit_workspace_window(2, per_seconds=10.0)
    await rig.web.chat_postMessage(channel="C1", text="one")
    assert await refused(rig.web.chat_postMessage(channel="C1", text="two")) == 1
    await rig.web.chat_postMessage(channel="C2", text="still room in the window")


async def test_scripted_failures_are_not_counted_as_refusals(rig: Rig) -> None:
    rig.fake.limit_workspace_window(1, per_seconds=10.0)
    rig.fake.fail_next("chat.postMessage", Scripted(status=429, retry_after=7))
    assert await refused(rig.web.chat_postMessage(channel="C1", text="scripted")) == 7
    await rig.web.chat_postMessage(channel="C1", text="the window still has room")
    assert rig.fake.refused == {}


async def test_response_url_posts_are_not_limited(rig: Rig) -> None:
    rig.fake.limit_workspace_window(1, per_seconds=10.0)
    await rig.web.chat_postMessage(channel="C1", text="fills the window")
    async with aiohttp.ClientSession() as session:
        hook = AsyncWebhookClient(url=str(rig.api.make_url("/response/h1")), session=session)
        for n in range(5):
            response = await hook.send(text=f"reply {n}", response_type="ephemeral")
            assert response.status_code == 200
    assert len(rig.fake.ephemeral_texts()) == 5
    assert await refused(rig.web.chat_postEphemeral(channel="C1", user="U1", text="x")) == 10


async def test_metadata_round_trips_through_conversations_history(rig: Rig) -> None:
    first = {"event_type": "cohortbot_outbox", "event_payload": {"outbox_id": 11}}
    posted = await rig.web.chat_postMessage(channel="U5", text="first", metadata=first)
    assert posted["channel"] == "D5"
    await rig.web.chat_postMessage(channel="D5", text="plain")
    # A form-encoded post carries metadata as a JSON string.
    third = {"event_type": "cohortbot_outbox", "event_payload": {"outbox_id": 12}}
    await rig.web.api_call(
        "chat.postMessage",
        data={"channel": "U5", "text": "third", "metadata": json.dumps(third)},
    )
    await rig.web.chat_postMessage(channel="C9", text="elsewhere")

    history = await rig.web.conversations_history(channel="D5", include_all_metadata=True)
    assert history["has_more"] is False
    assert [m["text"] for m in history["messages"]] == ["third", "plain", "first"]
    assert history["messages"][0]["metadata"] == third
    assert "metadata" not in history["messages"][1]
    assert history["messages"][2]["metadata"] == first
    assert all(m["type"] == "message" for m in history["messages"])

    bare = await rig.web.conversations_history(channel="D5")
    assert all("metadata" not in m for m in bare["messages"])

    oldest = history["messages"][2]["ts"]
    newer = await rig.web.conversations_history(channel="D5", oldest=oldest, limit=1)
    assert [m["text"] for m in newer["messages"]] == ["third"]
    assert newer["has_more"] is True
    rest = await rig.web.conversations_history(
        channel="D5", oldest=oldest, limit=1, cursor=newer["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["plain"]
    assert rest["has_more"] is False

    assert [m["text"] for m in rig.fake.posts_to("U5")] == ["first", "plain", "third"]
    assert rig.fake.posts_to("D5") == rig.fake.posts_to("U5")
    assert rig.fake.accepted["conversations.history"] == 4


async def test_updates_restate_stored_messages_and_replies_stay_out_of_history(
    rig: Rig,
) -> None:
    parent = await rig.web.chat_postMessage(channel="C1", text="draft")
    await rig.web.chat_update(channel="C1", ts=parent["ts"], text="final")
    await rig.web.chat_postMessage(channel="C1", text="in thread", thread_ts=parent["ts"])
    history = await rig.web.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["final"]
    assert [m["text"] for m in rig.fake.posts_to("C1")] == ["final", "in thread"]


async def test_bad_metadata_is_refused(rig: Rig) -> None:
    with pytest.raises(SlackApiError) as caught:
        await rig.web.api_call(
            "chat.postMessage", data={"channel": "C1", "text": "x", "metadata": "{not json"}
        )
    assert caught.value.response["error"] == "invalid_metadata_format"
    assert rig.fake.posts_to("C1") == []


async def test_duplicates_count_repeated_outbox_rows(rig: Rig) -> None:
    def meta(outbox_id: int) -> dict[str, object]:
        return {"event_type": "cohortbot_outbox", "event_payload": {"outbox_id": outbox_id}}

    await rig.web.chat_postMessage(channel="U1", text="a", metadata=meta(1))
    await rig.web.chat_postMessage(channel="U2", text="b", metadata=meta(2))
    await rig.web.chat_postMessage(channel="C1", text="no metadata")
    assert rig.fake.duplicates() == 0
    await rig.web.chat_postMessage(channel="U1", text="a again", metadata=meta(1))
    await rig.web.chat_postMessage(channel="U1", text="a thrice", metadata=meta(1))
    assert rig.fake.duplicates() == 2


async def test_conversations_open_for_one_user_gives_the_dm(rig: Rig) -> None:
    one = await rig.web.conversations_open(users="U123")
    assert one["channel"]["id"] == "D123"
    several = await rig.web.conversations_open(users="U2,U1")
    assert several["channel"]["id"] == "GU1_U2"
