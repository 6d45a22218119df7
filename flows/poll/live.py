"""A poll's life after it is posted: coalesced refreshes of the live message, and closing.

Votes never update the live message themselves. Each vote makes sure a refresh timer
exists for its time window (one per poll and window, created if absent, never locked
or moved), and the refresh renders the totals from the database. However many votes
arrive, the message is updated at most once a window.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from typing_extensions import TypedDict

from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, Timers
from flows.poll.view import live_message, poll_ref, results_message
from storage.models import Poll

REFRESH_TASK = "poll.refresh"
CLOSE_TASK = "poll.close"
WINDOW = timedelta(seconds=1)
"""Votes within one window share one refresh of the live message."""
SETTLE = timedelta(seconds=1)
"""A refresh runs at least this long after the votes it stands for began, so that they
have committed (a transaction of a vote takes milliseconds) before the totals are read."""


class PollTimer(TypedDict):
    """A poll's refresh or close."""

    poll_id: int


def timer_prefix(poll_id: int) -> str:
    return f"poll:{poll_id}:"


def close_key(poll_id: int) -> str:
    return f"{timer_prefix(poll_id)}close"


def refresh_due(now: datetime) -> tuple[int, datetime]:
    """(window number, when its refresh runs): after the window ends, plus the settle time."""
    seconds = WINDOW.total_seconds()
    window = math.floor(now.timestamp() / seconds)
    due = datetime.fromtimestamp((window + 1) * seconds, tz=UTC) + SETTLE
    return window, due


async def request_refresh(effects: Effects, poll: Poll) -> None:
    """Make sure the live message shows this vote within a window or two."""
    if poll.ref_key is None:
        return
    window, due = refresh_due(effects.now)
    await Timers(effects.uow, effects.now).run_once_unless_set(
        key=f"{timer_prefix(poll.id)}refresh:{window}",
        task=REFRESH_TASK,
        at=due,
        payload=PollTimer(poll_id=poll.id),
    )


async def render_live(effects: Effects, poll: Poll) -> None:
    """Replace the live message with the current totals from the database."""
    if poll.ref_key is None:
        return
    cohort = await effects.uow.cohorts.get(poll.cohort_id)
    counts, voters = await effects.uow.polls.tally(poll)
    time_zone = cohort.time_zone if cohort else "UTC"
    await effects.update(poll.ref_key, live_message(poll, counts, voters, time_zone=time_zone))


async def on_refresh(task: TaskContext) -> None:
    # Shared with votes, exclusive with a close: a refresh never queues an "open" picture
    # after the close queued its final one.
    poll = await task.uow.polls.get(task.payload_as(PollTimer)["poll_id"], share=True)
    if poll is not None and poll.closed_at is None:
        await render_live(task.effects, poll)


async def schedule_close(effects: Effects, poll: Poll) -> None:
    if poll.closes_at is not None:
        await Timers(effects.uow, effects.now).run_once(
            key=close_key(poll.id),
            task=CLOSE_TASK,
            at=poll.closes_at,
            payload=PollTimer(poll_id=poll.id),
        )


async def close(effects: Effects, poll: Poll, *, announce: bool = True) -> tuple[list[int], int]:
    """Close a poll (held under lock by the caller): final totals, live message, log.

    With `announce`, the results are also posted in the live message's thread.
    Returns (count per option, number of voters).
    """
    poll.closed_at = effects.now
    await Timers(effects.uow, effects.now).cancel_prefix(timer_prefix(poll.id))
    counts, voters = await effects.uow.polls.tally(poll)
    effects.log(
        "poll.closed",
        person_id=None,
        cohort_id=poll.cohort_id,
        object_ref=poll_ref(poll.id),
        data={"votes": voters, "results": counts},
    )
    await render_live(effects, poll)
    if announce and poll.ref_key is not None:
        await effects.thread(poll.ref_key, results_message(poll, counts, voters))
    return counts, voters


async def on_close(task: TaskContext) -> None:
    """The closing time came: close the poll unless it was closed already."""
    poll = await task.uow.polls.get(task.payload_as(PollTimer)["poll_id"], lock=True)
    if poll is not None and poll.closed_at is None:
        await close(task.effects, poll)
