"""`/cohort checkin` and `/cohort nudges`, and the timer that opens a cohort's rounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.commands.router import WHICH_COHORT, CommandContext
from bot.config import AppConfig
from bot.model.messages import Context, Section
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.scheduler import CohortTimer, Timers
from flows.checkin import live as checkin_live
from flows.checkin import rounds as checkin_rounds
from storage.models import Cohort
from storage.repositories.checkins import WEEKLY

MISSED_FOR_NUDGE = 2
"""Missed rounds in a row that put someone on the facilitator's "needs a nudge" list."""


async def install_cadence(ctx: CohortSetupContext) -> None:
    """The cohort's round opener, on its check-in cadence (removed when there is none)."""
    key = f"checkin:cohort:{ctx.cohort.id}:open"
    cadence = checkin_rounds.cadence_of(ctx.config, ctx.cohort, ctx.program)
    rule = checkin_rounds.opener_rule(cadence, ctx.cohort)
    if rule is None:
        await ctx.timers.cancel(key)
        return
    await ctx.timers.ensure_repeating(
        key=key,
        task=checkin_rounds.OPEN_TASK,
        rule=dict(rule),
        time_zone=checkin_rounds.EARLIEST_ZONE,
        payload=CohortTimer(cohort_id=ctx.cohort.id),
    )


async def checkin_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    if ctx.command.args == ("close",):
        await close_command(ctx, cohort=cohort)
        return
    if ctx.command.args:
        await checkin_live.live_command(ctx, cohort=cohort, program=program)
        return
    uow = ctx.effects.uow
    still_open = await uow.checkins.open_rounds(cohort.id, WEEKLY)
    if still_open:
        current = still_open[-1]
        await ctx.reply(
            f"Check-in round {current.number} is still open until "
            f"{_local(current.closes_at, ctx.person.time_zone)}; I'll post its digest then. "
            "`/cohort checkin close` posts it now."
        )
        return
    round_ = await checkin_rounds.open_round(
        ctx.effects, engine=ctx.engine, cohort=cohort, program=program, when=None
    )
    if round_ is None:
        await ctx.reply(
            "There is nobody to ask right now: everyone is away or inactive, or today is "
            "a day off for the program."
        )
        return
    await ctx.reply(
        f"Check-in round {round_.number} is open: I've asked {len(round_.order)} "
        f"participants by DM. The digest goes to the channel "
        f"{_local(round_.closes_at, ctx.person.time_zone)}."
    )


async def close_command(ctx: CommandContext, *, cohort: Cohort) -> None:
    """`/cohort checkin close`: close the open round now and post its digest."""
    uow, effects = ctx.effects.uow, ctx.effects
    still_open = await uow.checkins.open_rounds(cohort.id, WEEKLY)
    if not still_open:
        await ctx.reply(
            f"No check-in round of {cohort.name} is open. `/cohort checkin` opens one now."
        )
        return
    closed: list[str] = []
    for round_ in still_open:
        if not await checkin_rounds.close_round(effects, round_id=round_.id):
            continue
        # Prompts still ahead (later time zones), nudges and the timed close are moot now.
        await Timers(uow, effects.now).cancel_prefix(f"checkin:{round_.id}:")
        answers = await uow.checkins.answers(round_.id)
        shared = sum(1 for answer in answers if answer.answered_at is not None)
        closed.append(
            f"Check-in round {round_.number} is closed: {shared} of {len(answers)} shared, "
            "and the digest is in the channel."
        )
    await ctx.reply(" ".join(closed) or "That round was closed a moment ago.")


def _local(moment: datetime, time_zone: str) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return f"{moment.astimezone(zone):%A %d %B %H:%M}"


async def needs_a_nudge(ctx: CommandContext, cohort: Cohort) -> list[tuple[str, str, str]]:
    """(name, why, last check-in) for everyone who missed two rounds in a row or is inactive."""
    uow = ctx.effects.uow
    recent: dict[int, list[bool]] = {}
    for _round, answer in await uow.checkins.history(cohort.id, WEEKLY):
        recent.setdefault(answer.person_id, []).append(answer.answered_at is not None)
    last = await uow.checkins.last_answered(cohort.id)
    found: list[tuple[str, str, str]] = []
    for person, membership in await uow.participation.participants(cohort.id):
        answered = recent.get(person.id, [])
        missed = next((i for i, ok in enumerate(answered) if ok), len(answered))
        if membership.inactive_since is not None:
            why = f"inactive since {membership.inactive_since:%d %b}"
        elif missed >= MISSED_FOR_NUDGE:
            why = f"missed the last {missed} check-ins"
        else:
            continue
        seen = last.get(person.id)
        found.append((person.display_name, why, f"{seen:%d %b %Y}" if seen else "never"))
    return found


async def nudges_command(ctx: CommandContext) -> None:
    cohort = ctx.cohort
    if cohort is None:
        await ctx.reply(WHICH_COHORT)
        return
    found = await needs_a_nudge(ctx, cohort)
    if not found:
        await ctx.reply(f"Nobody in {cohort.name} needs a nudge right now.")
        return
    lines = [f"• *{name}*: {why}; last check-in {seen}" for name, why, seen in found]
    title = f"Needs a nudge in {cohort.name} ({len(found)}):"
    await ctx.reply(
        "\n".join([title, *lines]),
        blocks=[
            Section(text=f"*{title}*\n" + "\n".join(lines)),
            Context(text="A personal message often works better than another reminder."),
        ],
    )
