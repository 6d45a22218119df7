"""Casting a vote: who the voter is (a person, or a one-way token), and the vote rules."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.models import Poll
from storage.uow import UnitOfWork


class Outcome(StrEnum):
    RECORDED = "recorded"
    """A first vote."""
    CHANGED = "changed"
    WITHDRAWN = "withdrawn"
    """A multiple-choice voter unticked their last option."""
    UNCHANGED = "unchanged"
    ALREADY = "already"
    """A once-only poll (a rating) already has this person's vote."""
    CLOSED = "closed"
    INVALID = "invalid"


@dataclass(frozen=True)
class Cast:
    outcome: Outcome
    choices: tuple[int, ...] = ()


def voter_token(secret: str, poll_id: int, person_id: int) -> str:
    """The voter of an anonymous poll: HMAC-SHA256 of poll and person, hex (64 characters).

    One-way and keyed: the database alone cannot say whose vote it is, yet the same
    person always gets the same token in the same poll (one vote each, changeable).
    """
    message = f"{poll_id}:{person_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def voter_of(poll: Poll, person_id: int, secret: str) -> str:
    return voter_token(secret, poll.id, person_id) if poll.anonymous else str(person_id)


def is_open(poll: Poll, now: datetime) -> bool:
    """Open until closed, and never past its closing time (even if its timer runs late)."""
    return poll.closed_at is None and (poll.closes_at is None or now < poll.closes_at)


async def cast(
    uow: UnitOfWork,
    poll: Poll,
    *,
    person_id: int,
    option: int,
    now: datetime,
    secret: str,
    once: bool = False,
) -> Cast:
    """Apply one click: single choice replaces, multiple choice toggles, `once` refuses again.

    The caller holds the poll with at least a share lock, so a close cannot slip between
    the check and the write.
    """
    if not is_open(poll, now):
        return Cast(Outcome.CLOSED)
    if not 0 <= option < len(poll.options):
        return Cast(Outcome.INVALID)
    voter = voter_of(poll, person_id, secret)
    # An anonymous vote keeps the poll's creation time, not its own: a time would let it be
    # lined up with the moment someone was seen clicking.
    at = poll.created_at if poll.anonymous else now
    existing = await uow.polls.vote(poll.id, voter, lock=True)
    if existing is None:
        if await uow.polls.add_vote(
            poll_id=poll.id,
            voter=voter,
            person_id=None if poll.anonymous else person_id,
            choices=[option],
            at=at,
            random_id=poll.anonymous,
        ):
            return Cast(Outcome.RECORDED, (option,))
        existing = await uow.polls.vote(poll.id, voter, lock=True)  # a concurrent first click
        if existing is None:
            raise RuntimeError("a vote was neither inserted nor found")
    if once:
        return Cast(Outcome.ALREADY, tuple(existing.choices))
    before = sorted(existing.choices)
    after = sorted(set(before) ^ {option}) if poll.multi else [option]
    if after == before:
        return Cast(Outcome.UNCHANGED, tuple(after))
    if not after:
        await uow.polls.remove_vote(existing)
        return Cast(Outcome.WITHDRAWN)
    existing.choices = after
    existing.at = at
    return Cast(Outcome.CHANGED, tuple(after))
