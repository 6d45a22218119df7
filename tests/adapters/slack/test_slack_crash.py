"""A sender killed with SIGKILL mid-drain: nobody is lost, and on Slack nothing repeats.

The real path, end to end: the bot's sender runs in a spawned process of its own
(`tests.fakes.sender_process`) on a SQLite file, against a fake Slack served here with
a workspace limit and Slack's one post per second per conversation. The fake SIGKILLs
that process the moment it accepts the 20th post, before answering it: the post is in
the person's DM, but the sender never learns that it went, the worst moment to die. A
second process on the same file finishes the queue; for the rows the first left
`sending` it reads the conversation's history (each post carries its outbox id in its
metadata) before sending again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

import pytest
from aiohttp import web

from storage.statuses import OutboxStatus
from tests.fakes.sender_process import (
    CRASH_DMS,
    CRASH_LATENCY,
    FIRST_KILL_WITHIN,
    KILL_AT,
    SECOND_DONE_WITHIN,
    SLACK_PEOPLE,
    dm_text,
    kill,
    outbox_rows,
    serve,
    slack_environ,
    start_sender,
    wait_dead,
    wait_for_kill,
    wait_process,
)
from tests.fakes.slack_api import FakeSlack, conversation_of

DMS = CRASH_DMS
LATENCY = CRASH_LATENCY


@dataclass
class KillingSlack(FakeSlack):
    """A fake Slack that SIGKILLs `victim` as it accepts post number `kill_at`, and answers
    only once the process is dead."""

    kill_at: int = KILL_AT
    victim: BaseProcess | None = None
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    in_the_air: dict[str, Any] = field(default_factory=dict)
    """The message accepted at the kill, as stored (its outbox id is in its metadata)."""

    async def _api(self, request: web.Request) -> web.Response:
        before = len(self.accepted_times)
        answer = await super()._api(request)
        accepted = len(self.accepted_times) > before
        due = len(self.accepted_times) >= self.kill_at and not self.killed.is_set()
        if accepted and due and self.victim is not None:
            self.in_the_air = self._posted[-1]
            kill(self.victim)
            if not await wait_dead(self.victim, 10.0):
                raise RuntimeError("the sender survived SIGKILL")
            self.killed.set()
        return answer


@pytest.mark.timeout(SECOND_DONE_WITHIN + FIRST_KILL_WITHIN + 30)
async def test_a_sender_killed_mid_drain_loses_nobody_and_repeats_nothing_on_slack(
    sqlite_url: str,
) -> None:
    began = time.monotonic()
    fake = KillingSlack()
    fake.limit_workspace(15.0, burst_seconds=3.0)
    fake.limit_per_channel(1.0)
    fake.latency = LATENCY
    runner, api = await serve(fake.app())
    children: list[BaseProcess] = []
    try:
        first = start_sender(sqlite_url, slack_environ(api), DMS)
        children.append(first)
        fake.victim = first
        problem = await wait_for_kill(first, fake.killed.is_set, FIRST_KILL_WITHIN)
        assert problem is None, f"{problem}; {len(fake.accepted_times)} posts accepted"
        first.join()
        assert first.exitcode == -9, "killed by SIGKILL, not ended by itself"

        left = {row.id: row for row in await outbox_rows(sqlite_url)}
        in_the_air = fake.in_the_air["metadata"]["event_payload"]["outbox_id"]
        assert left[in_the_air].status == OutboxStatus.SENDING, (
            "posted to Slack, but the sender died before it heard back"
        )
        statuses = [row.status for row in left.values()]
        in_flight = [row for row in left.values() if row.status == OutboxStatus.SENDING]
        assert len(left) == DMS
        assert OutboxStatus.PENDING in statuses, "killed before the queue was done"
        accepted_at_kill = len(fake.accepted_times)

        second = start_sender(sqlite_url, slack_environ(api))
        children.append(second)
        assert await wait_process(second, SECOND_DONE_WITHIN), "the queue was not finished"
        assert second.exitcode == 0
    finally:
        for child in children:
            kill(child)
            child.join()
        await runner.cleanup()

    assert fake.duplicates() == 0, "no outbox id reached Slack twice"
    for n in range(DMS):
        posts = fake.posts_to(SLACK_PEOPLE.user(n))
        assert [post["text"] for post in posts] == [dm_text(n)], f"person {n}: exactly one DM"
    rows = await outbox_rows(sqlite_url)
    assert [row.status for row in rows] == [OutboxStatus.SENT] * DMS
    # The post the first sender never heard back about was found in the DM's history.
    found = next(row for row in rows if row.id == in_the_air)
    assert found.platform_ref is not None
    assert found.platform_ref.endswith(f":{fake.in_the_air['ts']}")
    looked_up = {conversation_of(body["channel"]) for body in fake.called("conversations.history")}
    for row in in_flight:
        assert conversation_of(row.target["user_id"]) in looked_up, "history read before sending"
    print(
        f"killed after {accepted_at_kill} of {DMS} posts; "
        f"{len(in_flight)} rows left sending; "
        f"{time.monotonic() - began:.1f} s"
    )
