"""Commitments: one personal action per attendee, with a deadline and an accountability peer.

Asked by DM when the session reaches its commitments item; the answer becomes a
Commitment row and the peer is told. The next session asks whether it was done.
The messages are rendered in `view`, except the deadline and peer questions: their
answer buttons need the run (`answer_buttons(ctx, ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NotRequired

from typing_extensions import TypedDict

from bot.model.messages import Context, Message, Section
from bot.runtime.answers import FreeText, InvalidAnswer
from bot.runtime.engine import Ask, Do, Flow, FlowContext, Goto, Tell, answer_buttons
from bot.support.durations import DurationError, parse_duration
from flows.common.availability import local_day
from flows.session import view
from storage.models import Commitment
from storage.statuses import CommitmentStatus

COMMITMENT_FLOW = "session.commitment"
DEFAULT = "default"
NO_PEER = 0


class CommitmentRun(TypedDict):
    """A commitment run's data: set when it starts, then the answers as they come."""

    session_id: int
    peers: list[tuple[int, str]]
    """(person id, name) of the peers who may hold the person to it."""
    default_due: date
    action: NotRequired[str]
    due: NotRequired[str]
    due_on: NotRequired[date]
    peer: NotRequired[int]


@dataclass(frozen=True)
class Deadline:
    """`default`, a date (YYYY-MM-DD) or a length from today (`10d`, `2w`)."""

    def parse(self, raw: str) -> object:
        text = raw.strip().lower()
        if text in (DEFAULT, "ok", "yes", ""):
            return DEFAULT
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            length = parse_duration(text)
        except DurationError:
            raise InvalidAnswer(
                "give a date as YYYY-MM-DD, a length like 10d, or pick the suggested day"
            ) from None
        return f"+{max(1, length.days)}"

    def hint(self) -> str:
        return "A date (YYYY-MM-DD), a length like 10d, or the suggested day."


@dataclass(frozen=True)
class Peer:
    """A person id from the buttons, or `none`."""

    def parse(self, raw: str) -> object:
        text = raw.strip().lower()
        if text.isdigit():
            return int(text)
        if text in ("none", "no one", "nobody", "no"):
            return NO_PEER
        raise InvalidAnswer("pick someone with the buttons, or type 'none'")

    def hint(self) -> str:
        return "Pick a peer with the buttons, or type 'none'."


def resolve_due(answer: str, *, today: date, default: date) -> date:
    if answer == DEFAULT:
        return default
    if answer.startswith("+"):
        return today + timedelta(days=int(answer[1:]))
    return date.fromisoformat(answer)


def _ask_action(ctx: FlowContext) -> Message:
    return view.commitment_action_prompt()


def _ask_due(ctx: FlowContext) -> Message:
    default = ctx.data_as(CommitmentRun)["default_due"]
    text = f"By when? I suggest {default:%A %d %B}."
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            answer_buttons(ctx, [(f"By {default:%a %d %b}", DEFAULT)]),
            Context(text="Or type a date (YYYY-MM-DD) or a length like 10d."),
        ],
    )


def _ask_peer(ctx: FlowContext) -> Message:
    peers = ctx.data_as(CommitmentRun)["peers"]
    text = "Who will hold you to it? Your practice partner is the first choice."
    options = [(str(name), str(pid)) for pid, name in peers] + [("No one", "none")]
    return Message(text=text, blocks=[Section(text=text), answer_buttons(ctx, options)])


async def _check_due(ctx: FlowContext) -> Goto | None:
    """A deadline in the past is asked again, with the reason."""
    today, run = local_day(ctx.effects.now, ctx.person.time_zone), ctx.data_as(CommitmentRun)
    due = resolve_due(run["due"], today=today, default=run["default_due"])
    if due < today:
        await ctx.effects.dm(ctx.person.id, view.due_passed(due))
        return Goto("due")
    ctx.remember(due_on=due.isoformat())
    return None


async def _save(ctx: FlowContext) -> Goto | None:
    """Check the peer, then record the commitment and tell the peer."""
    run = ctx.data_as(CommitmentRun)
    due, peer_id = run["due_on"], run["peer"]
    allowed = {pid for pid, _name in run["peers"]}
    if peer_id != NO_PEER and peer_id not in allowed:
        await ctx.effects.dm(ctx.person.id, view.pick_a_shown_peer())
        return Goto("peer")
    cohort_id = ctx.cohort.id if ctx.cohort else None
    if cohort_id is None:
        raise LookupError("a commitment needs its cohort")
    commitment = Commitment(
        cohort_id=cohort_id,
        session_id=run["session_id"],
        person_id=ctx.person.id,
        text=run["action"],
        due_on=due,
        peer_id=peer_id or None,
        status=CommitmentStatus.OPEN,
        created_at=ctx.effects.now,
    )
    ctx.effects.uow.cohort_sessions.add_commitment(commitment)
    ctx.effects.log(
        "commitment.made",
        person_id=ctx.person.id,
        cohort_id=cohort_id,
        object_ref=f"session:{run['session_id']}",
        data={"due_on": due.isoformat(), "peer_id": peer_id or None},
    )
    if peer_id:
        note = view.peer_note(name=ctx.person.display_name, action=run["action"], due=due)
        await ctx.effects.dm(peer_id, note)
    return None


def _confirm(ctx: FlowContext) -> Message:
    run = ctx.data_as(CommitmentRun)
    return view.commitment_confirmation(action=run["action"], due=run["due_on"])


def commitment_flow() -> Flow:
    return Flow(
        name=COMMITMENT_FLOW,
        steps=(
            Ask("action", _ask_action, FreeText(max_len=300), store="action"),
            Ask("due", _ask_due, Deadline(), store="due"),
            Do("check_due", _check_due),
            Ask("peer", _ask_peer, Peer(), store="peer"),
            Do("save", _save),
            Tell("confirm", _confirm),
        ),
    )
