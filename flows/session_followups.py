"""After a session: "did you do it?" for last time's commitments, and a 1-5 satisfaction rating."""

from __future__ import annotations

from bot.commands import ActionContext
from bot.effects import Effects
from bot.messages import Button, Buttons, Context, Message, Rating, Section
from storage.models import Cohort, CohortSession
from storage.repositories.sessions import session_ref

KEPT_ACTION = "session.kept"
RATE_ACTION = "session.rate"
RATING_MAX = 5


async def ask_about_commitments(effects: Effects, cohort: Cohort) -> int:
    """DM everyone with an open commitment in the cohort; returns how many were asked."""
    asked = 0
    for commitment in await effects.uow.sessions.open_commitments(cohort.id):
        text = (
            f"Before today's session: last time you committed to “{commitment.text}” "
            f"by {commitment.due_on:%A %d %B}. Did you do it?"
        )
        buttons = Buttons(
            buttons=[
                Button(
                    label="Yes, done",
                    action_id=KEPT_ACTION,
                    value=f"{commitment.id}:yes",
                    style="primary",
                ),
                Button(label="Not yet", action_id=KEPT_ACTION, value=f"{commitment.id}:no"),
            ]
        )
        message = Message(text=text, blocks=[Section(text=text), buttons])
        asked += await effects.dm(commitment.person_id, message)
    return asked


async def commitment_answered(ctx: ActionContext) -> None:
    """Yes/No on a commitment: kept or not kept, once, by its owner only."""
    raw_id, _, answer = ctx.value.partition(":")
    commitment = (
        await ctx.effects.uow.sessions.commitment(int(raw_id), lock=True)
        if raw_id.isdigit()
        else None
    )
    if commitment is None or commitment.person_id != ctx.person.id or answer not in ("yes", "no"):
        await ctx.reply("That button isn't for you.")
        return
    if commitment.status != "open":
        await ctx.reply("You've already told me about that commitment. Thanks!")
        return
    kept = answer == "yes"
    commitment.status = "kept" if kept else "not_kept"
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


async def ask_for_ratings(effects: Effects, session: CohortSession, cohort: Cohort) -> int:
    """DM each attendee a 1-5 rating of the session."""
    asked = 0
    for person_id in await effects.uow.sessions.attendees(session.id):
        text = f"How useful was today's session of {cohort.name}?"
        message = Message(
            text=text,
            blocks=[
                Section(text=text),
                Rating(
                    label="Rate the session",
                    action_id=f"{RATE_ACTION}:{session.id}",
                    low_label="not useful",
                    high_label="very useful",
                    scale=RATING_MAX,
                ),
                Context(text="One click; it helps the facilitators improve the next one."),
            ],
        )
        asked += await effects.dm(person_id, message)
    return asked


async def session_rated(ctx: ActionContext) -> None:
    """A satisfaction rating from an attendee, once per session."""
    raw_id = ctx.action_id.partition(":")[2]
    session = await ctx.effects.uow.sessions.get(int(raw_id)) if raw_id.isdigit() else None
    if session is None or ctx.person.id not in await ctx.effects.uow.sessions.attendees(session.id):
        await ctx.reply("That rating isn't for you.")
        return
    if not ctx.value.isdigit() or not 1 <= int(ctx.value) <= RATING_MAX:
        await ctx.reply(f"A rating is a whole number from 1 to {RATING_MAX}.")
        return
    if await ctx.effects.uow.sessions.logged(
        session_id=session.id, verb="session.rated", person_id=ctx.person.id
    ):
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
