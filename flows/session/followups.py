"""After a session: "did you do it?" for last time's commitments, and a 1-5 satisfaction rating.

The rating is a poll of kind `rating` (series `session:<id>`): only attendees vote, once.
The DMs are rendered in `view`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.commands.router import ActionContext
from bot.runtime.effects import Effects
from flows.poll import live as poll_live
from flows.poll.view import poll_ref
from flows.poll.votes import Outcome, cast
from flows.session import view
from storage.models import Cohort, CohortSession
from storage.repositories.cohort_sessions import session_ref
from storage.repositories.polls import RATING
from storage.statuses import CommitmentStatus, move

RATING_MAX = 5
RATING_OPEN = timedelta(days=7)
"""Attendees may rate a session for this long after it ends."""


async def ask_about_commitments(effects: Effects, cohort: Cohort) -> int:
    """DM everyone with an open commitment in the cohort; returns how many were asked."""
    asked = 0
    for commitment in await effects.uow.cohort_sessions.open_commitments(cohort.id):
        asked += await effects.dm(commitment.person_id, view.commitment_question(commitment))
    return asked


async def commitment_answered(ctx: ActionContext) -> None:
    """Yes/No on a commitment: kept or not kept, once, by its owner only."""
    raw_id, _, answer = ctx.value.partition(":")
    commitment = (
        await ctx.effects.uow.cohort_sessions.commitment(int(raw_id), lock=True)
        if raw_id.isdigit()
        else None
    )
    if commitment is None or commitment.person_id != ctx.person.id or answer not in ("yes", "no"):
        await ctx.reply("That button isn't for you.")
        return
    if commitment.status != CommitmentStatus.OPEN:
        await ctx.reply("You've already told me about that commitment. Thanks!")
        return
    kept = answer == "yes"
    move(commitment, CommitmentStatus.KEPT if kept else CommitmentStatus.NOT_KEPT)
    commitment.checked_at = ctx.effects.now
    ctx.effects.log(
        "commitment.kept" if kept else "commitment.not_kept",
        person_id=ctx.person.id,
        cohort_id=commitment.cohort_id,
        object_ref=f"commitment:{commitment.id}",
    )
    await ctx.reply(
        "Well done! That's one more thing put into practice."
        if kept
        else "Thanks for being honest. Maybe today's session helps you pick it up again."
    )


def rating_series(session_id: int) -> str:
    """The series of a session's satisfaction rating poll."""
    return f"session:{session_id}"


async def ask_for_ratings(effects: Effects, session: CohortSession, cohort: Cohort) -> int:
    """Open the session's rating poll (attendees only, one vote each) and DM each attendee."""
    attendees = await effects.uow.cohort_sessions.attendees(session.id)
    if not attendees:
        return 0
    text = view.rating_question(cohort.name)
    poll = await effects.uow.polls.create(
        cohort_id=cohort.id,
        kind=RATING,
        question=text,
        options=[str(n) for n in range(1, RATING_MAX + 1)],
        series=rating_series(session.id),
        now=effects.now,
        closes_at=effects.now + RATING_OPEN,
        created_by=session.facilitator_id,
    )
    effects.log(
        "poll.created",
        person_id=session.facilitator_id,
        cohort_id=cohort.id,
        object_ref=poll_ref(poll.id),
        data={"kind": RATING, "anonymous": False},
    )
    await poll_live.schedule_close(effects, poll)
    asked = 0
    for person_id in attendees:
        message = view.rating_request(question=text, session_id=session.id, scale=RATING_MAX)
        asked += await effects.dm(person_id, message)
    return asked


async def session_rated(ctx: ActionContext) -> None:
    """A satisfaction rating from an attendee: a vote in the session's rating poll, once."""
    uow = ctx.effects.uow
    raw_id = ctx.action_id.partition(":")[2]
    session = await uow.cohort_sessions.get(int(raw_id)) if raw_id.isdigit() else None
    found = await uow.polls.series(rating_series(session.id)) if session else []
    poll = await uow.polls.get(found[0].id, share=True) if found else None
    if (
        session is None
        or poll is None
        or ctx.person.id not in await uow.cohort_sessions.attendees(session.id)
    ):
        await ctx.reply("That rating isn't for you.")
        return
    if not ctx.value.isdigit() or not 1 <= int(ctx.value) <= RATING_MAX:
        await ctx.reply(f"A rating is a whole number from 1 to {RATING_MAX}.")
        return
    result = await cast(
        uow,
        poll,
        person_id=ctx.person.id,
        option=int(ctx.value) - 1,
        now=ctx.effects.now,
        secret="",  # ratings are not anonymous: the voter is the person id
        once=True,
    )
    if result.outcome == Outcome.CLOSED:
        await ctx.reply("Rating this session has closed. Thanks anyway!")
        return
    if result.outcome != Outcome.RECORDED:
        await ctx.reply("You've already rated this session. Thanks!")
        return
    ctx.effects.log(
        "session.rated",
        person_id=ctx.person.id,
        cohort_id=session.cohort_id,
        object_ref=session_ref(session.id),
        data={"rating": int(ctx.value)},
    )
    await ctx.reply(f"Thanks! You rated the session {ctx.value} out of {RATING_MAX}.")
