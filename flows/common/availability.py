"""Time off and inactivity, shared by every cadenced flow.

Nobody is prompted, paired or nudged on a program holiday, on a weekend the program
skips, or while away (`/cohort away until <date>`, ended by `/cohort back`). Someone
who leaves three prompts in a row unanswered becomes inactive: the facilitators are
told, the prompts stop, and they start again as soon as the person answers anything
or comes back. Nobody is dropped silently. The pause notices are rendered in `view`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.parser import CommandSpec
from bot.commands.router import CommandContext, CommandRouter
from bot.config import ProgramConfig
from bot.model.messages import Message
from bot.model.roles import Role
from bot.runtime.effects import Effects
from bot.support.durations import DurationError, parse_duration
from flows.common.view import paused_dm, paused_note
from storage.models import Cohort, Person

INACTIVE_AFTER_MISSED = 3
MAX_AWAY_DAYS = 366

AWAY = CommandSpec(
    name="away",
    summary="Pause prompts, pairings and nudges while you are away",
    usage="until <YYYY-MM-DD> | for <2w>",
    min_args=1,
    max_args=2,
    details=(
        "`/cohort away until 2026-12-31` pauses everything I would send you through that "
        "day (your time zone); `/cohort away for 10d` counts from today. "
        "`/cohort back` ends it early."
    ),
)
BACK = CommandSpec(
    name="back",
    summary="End your time off; prompts and pairings start again",
    usage="",
)


def is_program_day(program: ProgramConfig, day: date) -> bool:
    """A day the program runs on: not a holiday, and not a weekend it skips."""
    if day in program.holidays:
        return False
    return not (program.skip_weekends and day.weekday() >= 5)


def next_program_day(program: ProgramConfig, day: date) -> date:
    """`day` itself if the program runs then, else the next day it does."""
    for offset in range(366):
        candidate = day + timedelta(days=offset)
        if is_program_day(program, candidate):
            return candidate
    raise ValueError("the program has no working day within a year")


def local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def program_week(cohort: Cohort, day: date) -> int | None:
    """1 in the week of the kickoff, 2 the week after; None before it or unscheduled."""
    if cohort.start_date is None or day < cohort.start_date:
        return None
    return (day - cohort.start_date).days // 7 + 1


def parse_away_until(args: tuple[str, ...], today: date) -> date:
    """The last day away from `until 2026-12-31`, `2026-12-31`, `for 10d` or `10d`."""
    words = [a.lower() for a in args]
    if words and words[0] in ("until", "till", "to", "for"):
        keyword, words = words[0], words[1:]
    else:
        keyword = ""
    if len(words) != 1:
        raise ValueError("Say until when, e.g. `/cohort away until 2026-12-31` or `for 2w`.")
    value = words[0]
    try:
        until = date.fromisoformat(value)
    except ValueError:
        if keyword in ("until", "till", "to"):
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD.") from None
        try:
            length = parse_duration(value)
        except DurationError as error:
            raise ValueError(
                f"'{value}' is neither a date (YYYY-MM-DD) nor a length: {error}"
            ) from None
        days = max(1, -(-int(length.total_seconds()) // 86400))
        until = today + timedelta(days=days - 1)
    if until < today:
        raise ValueError(f"{until.isoformat()} has passed already; give a day from today on.")
    if (until - today).days > MAX_AWAY_DAYS:
        raise ValueError("That is more than a year away; use `/cohort away` for up to a year.")
    return until


async def away_command(ctx: CommandContext) -> None:
    person = ctx.person
    today = local_day(ctx.effects.now, person.time_zone)
    try:
        until = parse_away_until(ctx.command.args, today)
    except ValueError as problem:
        await ctx.reply(str(problem))
        return
    person.away_until = until
    for cohort, roles in await ctx.effects.uow.cohorts.cohorts_of(person.id):
        if Role.PARTICIPANT in roles:
            ctx.effects.log(
                "person.away",
                person_id=person.id,
                cohort_id=cohort.id,
                data={"until": until.isoformat()},
            )
    await ctx.reply(
        f"Enjoy your time off. No prompts, pairings or nudges through "
        f"{until:%A %d %B %Y}. Type `/cohort back` if you return earlier."
    )


async def back_command(ctx: CommandContext) -> None:
    person, effects = ctx.person, ctx.effects
    was_away = person.away_until is not None and person.away_until >= local_day(
        effects.now, person.time_zone
    )
    person.away_until = None
    reactivated = 0
    for cohort, roles in await effects.uow.cohorts.cohorts_of(person.id):
        if Role.PARTICIPANT not in roles:
            continue
        effects.log("person.back", person_id=person.id, cohort_id=cohort.id)
        reactivated += await note_answered(effects, cohort.id, person.id)
    if was_away or reactivated:
        await ctx.reply("Welcome back! Check-ins, pairings and reminders start again.")
    else:
        await ctx.reply("You weren't away; everything is running for you as usual.")


async def note_answered(effects: Effects, cohort_id: int, person_id: int) -> int:
    """The person answered a prompt: reset their count; 1 when they were inactive until now."""
    if not await effects.uow.participation.mark_answered(cohort_id, person_id):
        return 0
    effects.log("participant.reactivated", person_id=person_id, cohort_id=cohort_id)
    return 1


async def note_unanswered(effects: Effects, cohort: Cohort, person: Person, prompt: str) -> bool:
    """A prompt went unanswered; True when this made the person inactive."""
    membership = await effects.uow.participation.membership(cohort.id, person.id)
    if membership is None or membership.inactive_since is not None:
        return False
    membership.missed_in_a_row += 1
    effects.log(
        "prompt.unanswered",
        person_id=person.id,
        cohort_id=cohort.id,
        data={"prompt": prompt, "in_a_row": membership.missed_in_a_row},
    )
    if membership.missed_in_a_row < INACTIVE_AFTER_MISSED:
        return False
    membership.inactive_since = effects.now
    effects.log("participant.inactive", person_id=person.id, cohort_id=cohort.id)
    await effects.dm(person.id, paused_dm(cohort.name))
    await tell_role(
        effects,
        cohort.id,
        Role.FACILITATOR,
        paused_note(person.display_name, membership.missed_in_a_row, cohort.name),
    )
    return True


async def tell_role(effects: Effects, cohort_id: int, role: Role, message: Message) -> int:
    """DM everyone holding `role` in the cohort; returns how many."""
    told = 0
    for member, held in await effects.uow.cohorts.members(cohort_id):
        if held == role and await effects.dm(member.id, message):
            told += 1
    return told


def register(*, router: CommandRouter) -> None:
    router.register(AWAY, away_command)
    router.register(BACK, back_command)
