"""A sender killed with SIGKILL mid-drain on Teams: nobody is lost, few posts repeat.

Teams cannot tell the bot what already reached a conversation, so a message whose
answer the sender never got goes again after a crash. Each row is marked `sending` as
it goes and settled as soon as it completes, so only the sends in flight at the crash
can repeat: no more than the sender's concurrency.

The real path, end to end: the bot's sender runs in a spawned process of its own
(`tests.fakes.sender_process`) on a SQLite file, with Teams in emulator mode, against
the fake Bot Connector served here. The fake SIGKILLs that process as it accepts the
20th send, before answering it; a second process on the same file finishes the queue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from aiohttp import web

from storage.statuses import OutboxStatus
from tests.adapters.teams.conftest import card_text
from tests.fakes.bot_connector import Call, FakeBotConnector
from tests.fakes.sender_process import (
    CRASH_DMS,
    CRASH_LATENCY,
    FIRST_KILL_WITHIN,
    KILL_AT,
    SECOND_DONE_WITHIN,
    bot_config,
    dm_text,
    kill,
    outbox_rows,
    personal_chat,
    start_sender,
    teams_people,
    wait_dead,
    wait_for_kill,
    wait_process,
)

DMS = CRASH_DMS
LATENCY = CRASH_LATENCY


@dataclass
class KillingConnector(FakeBotConnector):
    """A fake Bot Connector that SIGKILLs `victim` as it accepts send number `kill_at`,
    and answers only once the process is dead. It runs on a thread of its own."""

    kill_at: int = KILL_AT
    victim: BaseProcess | None = None
    killed: threading.Event = field(default_factory=threading.Event)
    in_the_air: Call | None = None
    """The send accepted at the kill."""
    latency: float = LATENCY

    async def _activity(self, request: web.Request, kind: str) -> web.Response:
        await asyncio.sleep(self.latency)
        answer = await super()._activity(request, kind)
        due = len(self.of_kind("send")) >= self.kill_at and not self.killed.is_set()
        if kind == "send" and due and self.victim is not None:
            self.in_the_air = self.calls[-1]
            kill(self.victim)
            if not await wait_dead(self.victim, 10.0):
                raise RuntimeError("the sender survived SIGKILL")
            self.killed.set()
        return answer


@pytest.mark.timeout(SECOND_DONE_WITHIN + FIRST_KILL_WITHIN + 30)
async def test_a_sender_killed_mid_drain_repeats_no_more_than_its_concurrency_on_teams(
    sqlite_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    concurrency = bot_config(sqlite_url, {}).sender.concurrency
    fake = KillingConnector(tls_dir=tmp_path)
    fake.start()
    people = teams_people(fake.service_url)
    children: list[BaseProcess] = []
    try:
        first = start_sender(sqlite_url, {}, DMS, people)
        children.append(first)
        fake.victim = first
        problem = await wait_for_kill(first, fake.killed.is_set, FIRST_KILL_WITHIN)
        assert problem is None, f"{problem}; {len(fake.of_kind('send'))} sends accepted"
        first.join()
        assert first.exitcode == -9, "killed by SIGKILL, not ended by itself"

        left = await outbox_rows(sqlite_url)
        assert len(left) == DMS
        in_flight = [row for row in left if row.status == OutboxStatus.SENDING]
        assert [row for row in left if row.status == OutboxStatus.PENDING], "killed mid-drain"
        sent_at_kill = len(fake.of_kind("send"))

        second = start_sender(sqlite_url, {}, 0, people)
        children.append(second)
        assert await wait_process(second, SECOND_DONE_WITHIN), "the queue was not finished"
        assert second.exitcode == 0
    finally:
        for child in children:
            kill(child)
            child.join()
        fake.stop()

    sends = Counter(call.conversation_id for call in fake.of_kind("send"))
    for n in range(DMS):
        assert sends[personal_chat(people.user(n))] >= 1, f"person {n} got their DM"
    texts = {card_text(call.body) for call in fake.of_kind("send")}
    assert all(dm_text(n) in texts for n in range(DMS))
    repeats = sum(count - 1 for count in sends.values())
    assert fake.in_the_air is not None
    assert sends[fake.in_the_air.conversation_id] == 2, "what was in the air went again"
    assert 1 <= repeats <= len(in_flight) <= concurrency
    rows = await outbox_rows(sqlite_url)
    assert [row.status for row in rows] == [OutboxStatus.SENT] * DMS
    print(
        f"killed after {sent_at_kill} of {DMS} sends; {len(in_flight)} rows left sending; "
        f"{repeats} repeated; {time.monotonic() - began:.1f} s"
    )
