"""A database held by another process: Slack gets 503 within its 3 s, never a late 200.

The event is answered once, whether the write that was waiting lands after all or only
Slack's retry is recorded.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from storage.models import InboxEvent
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload, slack_rig_for
from tests.harness import demo_config

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}


@pytest.fixture
async def sqlite_rig(sqlite_url: str) -> AsyncIterator[SlackRig]:
    async with slack_rig_for(lambda slack: demo_config(sqlite_url, **slack)) as rig:
        yield rig


def hold_the_database(sqlite_url: str) -> sqlite3.Connection:
    """Another process's write transaction on the file: every other writer must wait."""
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), timeout=5)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_an_event_is_answered_503_in_time_while_another_process_holds_the_database(
    sqlite_rig: SlackRig, sqlite_url: str
) -> None:
    holder = hold_the_database(sqlite_url)
    envelope = payload("event_message_im.json")
    began = time.monotonic()
    busy = await sqlite_rig.event(envelope)
    waited = time.monotonic() - began
    await asyncio.sleep(0.5)
    holder.rollback()
    holder.close()
    retried = await sqlite_rig.event(envelope, RETRY)
    await sqlite_rig.playground.bot.settle()

    assert busy.status == 503
    assert waited < 3.0, f"answered within Slack's 3 s ({waited:.1f} s)"
    assert retried.status == 200
    assert len(sqlite_rig.slack.called("chat.postMessage")) == 1, "answered once"
    async with unit_of_work(sqlite_rig.playground.bot.sessions) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(InboxEvent)) == 1
