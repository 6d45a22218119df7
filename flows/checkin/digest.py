"""The round's digest in the cohort channel, and peers picking up challenges from it.

The digest lists every answer in the round's rotating order. A challenge marked
"I'd like help" carries an "I can help" button; the first peer to click it is recorded
as the helper, the asker hears about it by DM, and the digest is updated in place.
This module gathers the round's rows; the messages themselves are rendered in `view`.
"""

from __future__ import annotations

from bot.commands.router import ActionContext
from bot.model.messages import Message
from bot.runtime.effects import Effects
from flows.checkin import view
from storage.models import CheckinAnswer, CheckinRound, Cohort, Person


def digest_key(round_id: int) -> str:
    return f"checkin:{round_id}:digest"


async def render_digest(effects: Effects, *, round_: CheckinRound, cohort: Cohort) -> Message:
    uow = effects.uow
    answers = {a.person_id: a for a in await uow.checkins.answers(round_.id)}
    shared = [answers[pid] for pid in round_.order if pid in answers and answers[pid].answered_at]
    people = await uow.people.by_ids([a.person_id for a in answers.values()] + _helpers(shared))
    return view.digest(
        number=round_.number,
        cohort_name=cohort.name,
        shared=shared,
        asked=len(answers),
        people=people,
    )


def _helpers(answers: list[CheckinAnswer]) -> list[int]:
    return [a.helper_id for a in answers if a.helper_id is not None]


async def post_digest(effects: Effects, *, round_: CheckinRound, cohort: Cohort) -> None:
    message = await render_digest(effects, round_=round_, cohort=cohort)
    await effects.channel(cohort.id, message, ref_key=digest_key(round_.id))
    shared = sum(1 for a in await effects.uow.checkins.answers(round_.id) if a.answered_at)
    effects.log(
        "checkin.digest_posted",
        cohort_id=cohort.id,
        object_ref=f"checkin_round:{round_.id}",
        data={"number": round_.number, "shared": shared},
    )


async def refresh_digest(effects: Effects, *, round_: CheckinRound) -> None:
    """Update a posted digest after a change (someone asked for or offered help)."""
    cohort = await effects.uow.cohorts.get(round_.cohort_id)
    if cohort is None or round_.digest_posted_at is None:
        return
    message = await render_digest(effects, round_=round_, cohort=cohort)
    await effects.update(digest_key(round_.id), message)


async def offer_help(ctx: ActionContext) -> None:
    """A peer clicked "I can help": record them, tell the asker, update the digest."""
    uow = ctx.effects.uow
    answer = (
        await uow.checkins.answer_by_id(int(ctx.value), lock=True) if ctx.value.isdigit() else None
    )
    round_ = await uow.checkins.round(answer.round_id) if answer else None
    if answer is None or round_ is None or not answer.wants_help:
        await ctx.reply("That challenge is no longer open for help.")
        return
    asker = await uow.people.get(answer.person_id)
    roles = await uow.cohorts.roles(cohort_id=round_.cohort_id, person_id=ctx.person.id)
    if asker is None or not roles:
        await ctx.reply("Only members of this cohort can offer help here.")
        return
    if answer.person_id == ctx.person.id:
        await ctx.reply("That's your own challenge; a peer will pick it up.")
        return
    if answer.helper_id is not None:
        helper = await uow.people.get(answer.helper_id)
        who = "You are" if answer.helper_id == ctx.person.id else f"{_name(helper)} is"
        await ctx.reply(f"{who} already helping {asker.display_name} with this one.")
        return
    answer.helper_id = ctx.person.id
    ctx.effects.log(
        "checkin.help_offered",
        person_id=ctx.person.id,
        cohort_id=round_.cohort_id,
        object_ref=f"checkin_answer:{answer.id}",
        data={"asker_id": asker.id},
    )
    await ctx.effects.dm(
        asker.id,
        view.help_offered(helper_name=ctx.person.display_name, challenge=answer.challenge),
    )
    await ctx.reply(f"Thank you! I've let {asker.display_name} know you can help.")
    await refresh_digest(ctx.effects, round_=round_)


def _name(person: Person | None) -> str:
    return person.display_name if person and person.display_name else "Someone"
