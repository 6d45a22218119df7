"""Every status a stored row can have, and the one table per entity of the moves it may make.

The columns stay plain strings in the database; these StrEnums are the only values code
writes into them, and `move` is the only way code changes them, so an illegal change
(reopening a resolved escalation, submitting a declined review) fails where it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol, TypeVar


class PersonStatus(StrEnum):
    ACTIVE = "active"


class CohortStatus(StrEnum):
    ACTIVE = "active"


class MembershipStatus(StrEnum):
    ACTIVE = "active"


class RunStatus(StrEnum):
    """A conversation run on the flow engine."""

    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    SUPERSEDED = "superseded"


class DeliveryClass(StrEnum):
    """What an outgoing message is to its reader; replies never wait behind bulk."""

    REPLY = "reply"
    """Answers a person's own action: their command, click, or the conversation they are in."""
    BULK = "bulk"
    """Everything else: round prompts, reminders, digests, announcements, welcomes."""


class TimerStatus(StrEnum):
    """A scheduled item: one-off or repeating."""

    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class SessionStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class CommitmentStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    NOT_KEPT = "not_kept"


class ReviewStatus(StrEnum):
    """A review request: open until enough reviews arrive, or cancelled with no reviewer."""

    OPEN = "open"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    """One reviewer's part of a review request."""

    ASSIGNED = "assigned"
    DECLINED = "declined"
    SUBMITTED = "submitted"


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class StatementStatus(StrEnum):
    """An xAPI statement on its way to the LRS."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


S = TypeVar("S", bound=StrEnum)

TRANSITIONS: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    PersonStatus: {PersonStatus.ACTIVE: frozenset()},
    CohortStatus: {CohortStatus.ACTIVE: frozenset()},
    MembershipStatus: {MembershipStatus.ACTIVE: frozenset()},
    RunStatus: {
        RunStatus.ACTIVE: frozenset({RunStatus.WAITING, RunStatus.DONE, RunStatus.CANCELLED}),
        RunStatus.WAITING: frozenset({RunStatus.ACTIVE, RunStatus.DONE, RunStatus.CANCELLED}),
        RunStatus.DONE: frozenset(),
        RunStatus.CANCELLED: frozenset(),
    },
    InboxStatus: {
        InboxStatus.PENDING: frozenset({InboxStatus.DONE, InboxStatus.FAILED}),
        InboxStatus.DONE: frozenset(),
        InboxStatus.FAILED: frozenset(),
    },
    OutboxStatus: {
        OutboxStatus.PENDING: frozenset(
            {OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.SUPERSEDED}
        ),
        OutboxStatus.SENDING: frozenset(
            {OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.SUPERSEDED}
        ),
        OutboxStatus.SENT: frozenset(),
        OutboxStatus.DEAD: frozenset(),
        OutboxStatus.SUPERSEDED: frozenset(),
    },
    TimerStatus: {
        TimerStatus.ACTIVE: frozenset({TimerStatus.DONE, TimerStatus.CANCELLED}),
        TimerStatus.DONE: frozenset({TimerStatus.ACTIVE}),
        TimerStatus.CANCELLED: frozenset({TimerStatus.ACTIVE}),
    },
    SessionStatus: {
        SessionStatus.RUNNING: frozenset({SessionStatus.PAUSED, SessionStatus.ENDED}),
        SessionStatus.PAUSED: frozenset({SessionStatus.RUNNING, SessionStatus.ENDED}),
        SessionStatus.ENDED: frozenset(),
    },
    CommitmentStatus: {
        CommitmentStatus.OPEN: frozenset({CommitmentStatus.KEPT, CommitmentStatus.NOT_KEPT}),
        CommitmentStatus.KEPT: frozenset(),
        CommitmentStatus.NOT_KEPT: frozenset(),
    },
    ReviewStatus: {
        ReviewStatus.OPEN: frozenset({ReviewStatus.COMPLETE, ReviewStatus.CANCELLED}),
        ReviewStatus.COMPLETE: frozenset(),
        ReviewStatus.CANCELLED: frozenset(),
    },
    AssignmentStatus: {
        AssignmentStatus.ASSIGNED: frozenset(
            {AssignmentStatus.DECLINED, AssignmentStatus.SUBMITTED}
        ),
        AssignmentStatus.DECLINED: frozenset(),
        AssignmentStatus.SUBMITTED: frozenset(),
    },
    EscalationStatus: {
        EscalationStatus.OPEN: frozenset(
            {EscalationStatus.ACKNOWLEDGED, EscalationStatus.RESOLVED}
        ),
        EscalationStatus.ACKNOWLEDGED: frozenset({EscalationStatus.RESOLVED}),
        EscalationStatus.RESOLVED: frozenset(),
    },
    StatementStatus: {
        StatementStatus.PENDING: frozenset(
            {StatementStatus.SENDING, StatementStatus.SENT, StatementStatus.FAILED}
        ),
        StatementStatus.SENDING: frozenset(
            {StatementStatus.PENDING, StatementStatus.SENT, StatementStatus.FAILED}
        ),
        StatementStatus.SENT: frozenset(),
        StatementStatus.FAILED: frozenset({StatementStatus.PENDING}),
    },
}
"""Entity status -> the statuses it may move to. Staying put is always allowed."""


class IllegalTransition(ValueError):
    """Code tried a status change its entity's table does not allow."""


class HasStatus(Protocol):
    status: str


def move(row: HasStatus, to: S) -> None:
    """Set `row.status` to `to`, if its entity's table allows it from where the row is.

    A row not stored yet has no status: it may start in any.
    """
    if not row.status:  # the column default applies only when the row is first flushed
        row.status = to
        return
    current = type(to)(row.status)
    if to != current and to not in TRANSITIONS[type(to)][current]:
        raise IllegalTransition(f"{type(row).__name__} cannot go from {current} to {to}")
    row.status = to
