"""`/cohort poll` (post one, or close it) and the vote button of polls and quizzes."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.router import ActionContext, CommandContext
from bot.config import AppConfig
from flows.poll import live as poll_live
from flows.poll.view import live_message, poll_ref
from flows.poll.votes import Outcome, cast
from flows.poll.wording import Wording, read_poll
from storage.models import Cohort, Poll
from storage.repositories.polls import POLL, QUIZ

MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION, MAX_OPTION = 300, 75
DEFAULT_CLOSE = timedelta(hours=24)
ANONYMOUS = "The poll is anonymous: nobody can see who chose what."
SHORTEST, LONGEST = timedelta(minutes=1), timedelta(days=30)


async def poll_command(ctx: CommandContext) -> None:
    cohort = ctx.cohort
    if cohort is None:
        await ctx.reply("Which cohort? Run `/cohort poll` in the cohort's channel.")
        return
    args = ctx.command.args
    if args[0].lower() == "close" and (len(args) == 1 or (len(args) == 2 and args[1].isdigit())):
        await _close_command(ctx, cohort, int(args[1]) if len(args) == 2 else None)
        return
    quoted = tuple(ctx.command.was_quoted(i) for i in range(len(args)))
    try:
        wording = read_poll(args, quoted)
    except ValueError as unclear:
        await ctx.reply(f"{unclear}\nUsage: {ctx.spec.usage_line()}")
        return
    problem = _problem(wording, ctx.command.duration("closes"))
    if problem:
        await ctx.reply(f"{problem}\nUsage: {ctx.spec.usage_line()}")
        return
    closes_in = ctx.command.duration("closes") or DEFAULT_CLOSE
    uow, effects = ctx.effects.uow, ctx.effects
    poll = await uow.polls.create(
        cohort_id=cohort.id,
        kind=POLL,
        question=wording.question,
        options=list(wording.options),
        multi=ctx.command.flag("multi"),
        anonymous=ctx.command.flag("anonymous"),
        now=effects.now,
        closes_at=effects.now + closes_in,
        created_by=ctx.person.id,
    )
    poll.ref_key = poll_ref(poll.id)
    posted = await effects.channel(
        cohort.id,
        live_message(poll, [0] * len(poll.options), 0, time_zone=cohort.time_zone),
        ref_key=poll.ref_key,
    )
    if not posted:
        await ctx.reply(f"{cohort.name} has no channel the bot can post in, so no poll was made.")
        await uow.polls.delete(poll)
        return
    await poll_live.schedule_close(effects, poll)
    effects.log(
        "poll.created",
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        object_ref=poll_ref(poll.id),
        data={"kind": POLL, "anonymous": poll.anonymous},
    )
    number = await uow.polls.number_in_cohort(poll)
    await ctx.reply(
        f"Poll #{number} is posted in the channel of {cohort.name}. "
        f"It closes in {_duration(closes_in)}; `/cohort poll close {number}` closes it sooner."
    )


def _problem(wording: Wording, closes: timedelta | None) -> str | None:
    """Why the poll cannot be made as written, or None."""
    question, options = wording.question, wording.options
    if not question:
        return "The question is empty."
    if len(question) > MAX_QUESTION:
        return f"The question is {len(question)} characters; keep it to {MAX_QUESTION}."
    if len(options) < MIN_OPTIONS:
        return (
            f"A poll needs at least {MIN_OPTIONS} options, each in quotes or separated by "
            f"commas after the question (you gave {len(options)})."
        )
    if len(options) > MAX_OPTIONS:
        return f"A poll has at most {MAX_OPTIONS} options (you gave {len(options)})."
    if any(not option for option in options):
        return "An option is empty."
    long = next((o for o in options if len(o) > MAX_OPTION), None)
    if long is not None:
        return f"Options are at most {MAX_OPTION} characters: “{long[:40]}…” is {len(long)}."
    if len({o.lower() for o in options}) != len(options):
        return "Two options are the same; each option must be different."
    if closes is not None and not SHORTEST <= closes <= LONGEST:
        return "--closes must be between 1 minute and 30 days."
    return None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return "1 day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


async def _close_command(ctx: CommandContext, cohort: Cohort, number: int | None) -> None:
    """Close the cohort's poll with that number (as shown when it was posted), or its
    latest open one."""
    uow = ctx.effects.uow
    if number is None:
        latest = await uow.polls.latest_open(cohort.id, POLL)
        poll_id = latest.id if latest is not None else None
    else:
        poll_id = await uow.polls.id_by_number(cohort.id, POLL, number)
    poll = await uow.polls.get(poll_id, lock=True) if poll_id is not None else None
    if poll is None or poll.cohort_id != cohort.id or poll.kind != POLL:
        await ctx.reply(f"{cohort.name} has no open poll to close.")
        return
    number = await uow.polls.number_in_cohort(poll)
    if poll.closed_at is not None:
        await ctx.reply(f"Poll #{number} is already closed.")
        return
    _counts, voters = await poll_live.close(ctx.effects, poll)
    await ctx.reply(f"Poll #{number} is closed with {voters} voted; the results are posted.")


async def vote(ctx: ActionContext, config: AppConfig) -> None:
    """A click on a poll's or quiz question's option."""
    uow, effects = ctx.effects.uow, ctx.effects
    raw_id = ctx.action_id.partition(":")[2]
    poll = await uow.polls.get(int(raw_id), share=True) if raw_id.isdigit() else None
    if poll is None or poll.kind not in (POLL, QUIZ):
        await ctx.reply("That poll no longer exists.")
        return
    if poll.anonymous:
        effects.keep_private()
    if not await uow.cohorts.roles(cohort_id=poll.cohort_id, person_id=ctx.person.id):
        cohort = await uow.cohorts.get(poll.cohort_id)
        await ctx.reply(f"Only members of {cohort.name if cohort else 'the cohort'} can vote.")
        return
    secret = config.server.poll_secret or ""
    option = int(ctx.value) if ctx.value.isdigit() else -1
    result = await cast(
        uow, poll, person_id=ctx.person.id, option=option, now=effects.now, secret=secret
    )
    if result.outcome == Outcome.CLOSED:
        what = "quiz" if poll.kind == QUIZ else "poll"
        await ctx.reply(f"This {what} has closed; your vote was not counted.")
        return
    if result.outcome == Outcome.INVALID:
        await ctx.reply("That option is not part of this poll.")
        return
    if result.outcome == Outcome.RECORDED:
        effects.log(
            "poll.voted",
            person_id=None if poll.anonymous else ctx.person.id,
            cohort_id=poll.cohort_id,
            object_ref=poll_ref(poll.id),
            # An anonymous vote's moment could be lined up with the reply to the voter.
            at=poll.created_at if poll.anonymous else None,
        )
    if result.outcome != Outcome.UNCHANGED:
        await poll_live.request_refresh(effects, poll)
    await ctx.reply(_confirmation(poll, result.outcome, result.choices, clicked=option))


def _confirmation(poll: Poll, outcome: Outcome, choices: tuple[int, ...], *, clicked: int) -> str:
    """The voter's receipt. For anonymous polls it never names the choice: replies are
    stored in the outbox beside the person they go to."""
    if poll.anonymous:
        if outcome == Outcome.WITHDRAWN:
            return "Your vote is withdrawn. The poll is anonymous."
        if poll.multi:
            # Tick or untick and how many are ticked tell the voter what the click did
            # without naming any option.
            done = "ticked" if clicked in choices else "unticked"
            return f"Option {done}; you have {len(choices)} ticked. {ANONYMOUS}"
        return f"Your vote is counted. {ANONYMOUS}"
    if outcome == Outcome.WITHDRAWN:
        return "You have no options ticked now; your vote is withdrawn."
    chosen = ", ".join(poll.options[i] for i in choices)
    if poll.kind == QUIZ:
        return f"Answer saved: {chosen}. The right answers are shown when the quiz closes."
    return f"Your vote: {chosen}. Click again to change it until the poll closes."
