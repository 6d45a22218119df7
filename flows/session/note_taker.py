"""Asking someone to take a session's notes: they say yes, or the next in turn is asked.

Nobody becomes note-taker without agreeing. When a session starts, the person named with
`--note-taker` (else the one whose turn it is) is asked by DM; "Yes" names them on the
agenda. "Not this time" tells the facilitator and asks the next in turn; when nobody is
left, the facilitator hears that the notes are theirs. Who was asked and who declined is
read from the session's activity log, so a restart loses nothing. The DMs are in `view`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands.router import ActionContext
from bot.model.roles import Role
from bot.runtime.effects import Effects
from flows.common.availability import tell_role
from flows.session import view
from flows.session.roles import choose_note_taker
from storage.models import Cohort, CohortSession
from storage.repositories.cohort_sessions import session_ref
from storage.statuses import SessionStatus

ASKED = "session.note_taker_asked"
ACCEPTED = "session.note_taker_accepted"
DECLINED = "session.note_taker_declined"

Refresh = Callable[[Effects, CohortSession, Cohort], Awaitable[None]]


async def ask(effects: Effects, session: CohortSession, cohort: Cohort, person_id: int) -> None:
    """DM the person the request to take this session's notes."""
    effects.log(ASKED, person_id=person_id, cohort_id=cohort.id, object_ref=session_ref(session.id))
    await effects.dm(
        person_id,
        view.note_taker_request(
            number=session.number, cohort_name=cohort.name, session_id=session.id
        ),
    )


async def asked(effects: Effects, session: CohortSession) -> int | None:
    """Who is being asked now: the last person asked, unless they declined."""
    uow = effects.uow
    asks = await uow.cohort_sessions.logged(session_id=session.id, verb=ASKED)
    if not asks:
        return None
    last = asks[-1].person_id
    declined = await uow.cohort_sessions.logged(session_id=session.id, verb=DECLINED)
    return None if any(d.person_id == last for d in declined) else last


async def answered(ctx: ActionContext, refresh: Refresh) -> None:
    """The asked person pressed "Yes, I'll take notes" or "Not this time"."""
    uow, effects = ctx.effects.uow, ctx.effects
    session_id, _, answer = ctx.value.partition(":")
    session = (
        await uow.cohort_sessions.get(int(session_id), lock=True) if session_id.isdigit() else None
    )
    cohort = await uow.cohorts.get(session.cohort_id) if session else None
    if session is None or cohort is None or session.status == SessionStatus.ENDED:
        await ctx.reply("That session has ended.")
        return
    if session.note_taker_id == ctx.person.id:
        await ctx.reply(f"You're already the note-taker for session {session.number}.")
        return
    if session.note_taker_id is not None:
        taker = await uow.people.get(session.note_taker_id)
        name = taker.display_name if taker else "Someone"
        await ctx.reply(f"{name} is taking the notes already; thanks all the same.")
        return
    current = await asked(effects, session)
    if current != ctx.person.id:
        other = await uow.people.get(current) if current is not None else None
        await ctx.reply(
            f"I've asked {other.display_name} to take the notes instead; thanks all the same."
            if other is not None
            else "I'm not asking anyone to take the notes of this session any more."
        )
        return
    ref = session_ref(session.id)
    if answer == "yes":
        session.note_taker_id = ctx.person.id
        effects.log(ACCEPTED, person_id=ctx.person.id, cohort_id=cohort.id, object_ref=ref)
        await refresh(effects, session, cohort)
        await ctx.reply(
            f"Thanks! You're the note-taker for session {session.number} of {cohort.name}."
        )
        return
    effects.log(DECLINED, person_id=ctx.person.id, cohort_id=cohort.id, object_ref=ref)
    passed = {
        d.person_id for d in await uow.cohort_sessions.logged(session_id=session.id, verb=DECLINED)
    }
    passed.add(ctx.person.id)
    following = await choose_note_taker(uow, cohort.id, passed={p for p in passed if p is not None})
    if following is not None:
        await ask(effects, session, cohort, following)
    await _tell_facilitator(
        effects, session, cohort, declined=ctx.person.display_name, next_id=following
    )
    await refresh(effects, session, cohort)
    await ctx.reply("No problem; I'll find someone else.")


async def _tell_facilitator(
    effects: Effects, session: CohortSession, cohort: Cohort, *, declined: str, next_id: int | None
) -> None:
    following = await effects.uow.people.get(next_id) if next_id is not None else None
    message = view.note_taker_passed(
        declined=declined,
        asked=following.display_name if following else None,
        number=session.number,
        cohort_name=cohort.name,
    )
    if session.facilitator_id is not None:
        await effects.dm(session.facilitator_id, message)
    else:  # a session started by the cadence, with nobody named to facilitate
        await tell_role(effects, cohort.id, Role.FACILITATOR, message)
