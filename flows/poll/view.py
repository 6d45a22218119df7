"""What a poll looks like: the live message, the results at close. Pure functions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.model.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Message,
    ResultBar,
    ResultBars,
    Section,
    sealed,
)
from storage.models import Poll
from storage.repositories.polls import QUIZ

VOTE_ACTION = "poll.vote"
"""A click on an option: `poll.vote:<poll id>`, the value is the option's index."""
BAR_WIDTH = 10


def poll_ref(poll_id: int) -> str:
    """The object reference in the activity log, and the live message's key."""
    return f"poll:{poll_id}"


def when(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%a %d %b %H:%M %Z")


def bar_lines(options: list[str], counts: list[int], correct: list[int] | None = None) -> list[str]:
    """One text bar per option: `B  ███░░░░░░░ 3 (30%)`, right answers ticked."""
    total = sum(counts)
    lines = []
    for index, (label, count) in enumerate(zip(options, counts, strict=True)):
        share = count / total if total else 0.0
        filled = round(share * BAR_WIDTH)
        tick = "✓ " if correct is not None and index in correct else ""
        lines.append(
            f"{tick}{label}  {'█' * filled}{'░' * (BAR_WIDTH - filled)} {count} ({share:.0%})"
        )
    return lines


def shows_counts(poll: Poll) -> bool:
    """Whether option counts are shown while the poll is open.

    Anonymous polls and quizzes show only how many answered until they close: moving
    bars would tell who chose what (the only one who just clicked) or give answers away.
    """
    return poll.closed_at is not None or (not poll.anonymous and poll.kind != QUIZ)


def _bars(labels: list[str], counts: list[int]) -> ResultBars:
    return ResultBars(
        bars=[ResultBar(label=label, count=c) for label, c in zip(labels, counts, strict=True)]
    )


def _labels(poll: Poll) -> list[str]:
    correct = set(poll.correct or []) if poll.closed_at is not None else set()
    return [f"✓ {o}" if i in correct else o for i, o in enumerate(poll.options)]


def _mode(poll: Poll) -> str:
    parts = ["Choose one or more" if poll.multi else "Choose one"]
    if poll.anonymous:
        parts.append("anonymous: nobody can see who chose what")
    return " · ".join(parts)


def heading(poll: Poll) -> str:
    if poll.kind == QUIZ:
        return f"❓ Question {poll.position + 1}: {poll.question}"
    return f"📊 {poll.question}"


def live_message(poll: Poll, counts: list[int], voters: int, *, time_zone: str) -> Message:
    """The one channel message of a poll: options to click, and the results so far."""
    heading_ = heading(poll)
    voted = f"{voters} voted" if poll.kind != QUIZ else f"{voters} answered"
    blocks: list[Block] = [Section(text=f"*{heading_}*"), Context(text=_mode(poll))]
    lines = [heading_]
    if shows_counts(poll):
        blocks.append(_bars(_labels(poll), counts))
        closed_correct = poll.correct if poll.closed_at is not None else None
        lines += bar_lines(poll.options, counts, closed_correct)
    if poll.closed_at is not None:
        status = f"Closed · {voted}."
        blocks.append(Context(text=status))
    else:
        closes = f", closes {when(poll.closes_at, time_zone)}" if poll.closes_at else ""
        change = "answer" if poll.kind == QUIZ else "vote"
        status = f"{voted} so far{closes}. You can change your {change} until then."
        blocks.append(
            Buttons(
                buttons=[
                    Button(
                        label=option,
                        action_id=f"{VOTE_ACTION}:{poll.id}",
                        value=sealed(str(index)) if poll.anonymous else str(index),
                    )
                    for index, option in enumerate(poll.options)
                ]
            )
        )
        blocks.append(Context(text=status))
        if not shows_counts(poll):
            lines += [f"{index + 1}. {option}" for index, option in enumerate(poll.options)]
    lines.append(status)
    return Message(text="\n".join(lines), blocks=blocks)


def results_message(poll: Poll, counts: list[int], voters: int) -> Message:
    """Posted when a poll closes: the final bars and the most chosen option."""
    heading = f"Results of “{poll.question}” ({voters} voted)"
    lines = [heading, *bar_lines(poll.options, counts)]
    blocks: list[Block] = [
        Section(text=f"*{heading}*"),
        _bars(poll.options, counts),
    ]
    if voters:
        best = max(counts)
        leaders = [o for o, c in zip(poll.options, counts, strict=True) if c == best]
        verdict = (
            f"Most chosen: {leaders[0]} ({best})."
            if len(leaders) == 1
            else f"A tie between {', '.join(leaders)} ({best} each)."
        )
    else:
        verdict = "Nobody voted."
    lines.append(verdict)
    blocks.append(Context(text=verdict))
    return Message(text="\n".join(lines), blocks=blocks)
