"""`/cohort session start|next|pause|resume|end`: who may steer, and what each step does."""

from __future__ import annotations

from bot.commands.router import CommandContext
from bot.model.roles import Role
from flows.session import agenda, view
from flows.session.roles import rotating_facilitator
from flows.session.runner import SessionRunner
from storage.models import Cohort, CohortSession
from storage.repositories.people import IdentityFacts
from storage.statuses import SessionStatus

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})


async def session_command(ctx: CommandContext, runner: SessionRunner) -> None:
    cohort = ctx.cohort
    if cohort is None or cohort.program not in runner.config.programs:
        await ctx.reply(
            "Which cohort? Use `/cohort session start <cohort>` or run it in the cohort's channel."
        )
        return
    action = ctx.command.args[0]
    uow = ctx.effects.uow
    current = await uow.cohort_sessions.current(cohort.id, lock=True)
    staff = not STAFF.isdisjoint(ctx.roles)
    if action == "start":
        await _start(ctx, runner, cohort, current, staff=staff)
        return
    if current is None:
        await ctx.reply(
            f"No session of {cohort.name} is running. Start one with `/cohort session start`."
        )
        return
    if not staff and current.facilitator_id != ctx.person.id:
        await ctx.reply(
            f"Only the session's facilitator or a program owner can use `/cohort session {action}`."
        )
        return
    effects = ctx.effects
    if action == "next":
        await runner.advance(effects, current, cohort)
        await ctx.reply(
            "Moved on."
            if current.status != SessionStatus.ENDED
            else "That was the last item; the session ended."
        )
    elif action == "pause":
        if current.status == SessionStatus.PAUSED:
            await ctx.reply("The session is already paused. `/cohort session resume` continues it.")
            return
        await runner.pause(effects, current, cohort)
        left = view.minutes_text(agenda.time_left(current, runner.program(cohort), effects.now))
        await ctx.reply(f"Paused with {left} left. `/cohort session resume` continues.")
    elif action == "resume":
        if current.status != SessionStatus.PAUSED:
            await ctx.reply("The session isn't paused.")
            return
        await runner.resume(effects, current, cohort)
        await ctx.reply("Resumed.")
    else:
        await runner.end(effects, current, cohort)
        await ctx.reply(f"Session {current.number} ended. Attendees get a rating request by DM.")


async def _start(
    ctx: CommandContext,
    runner: SessionRunner,
    cohort: Cohort,
    current: CohortSession | None,
    *,
    staff: bool,
) -> None:
    uow, effects = ctx.effects.uow, ctx.effects
    program = runner.program(cohort)
    if not staff:
        named = await rotating_facilitator(
            uow,
            cohort,
            program,
            number=await uow.cohort_sessions.count(cohort.id) + 1,
            now=effects.now,
        )
        if named is None or named.id != ctx.person.id:
            await ctx.reply(
                f"Only a facilitator or a program owner of {cohort.name} can start a session."
            )
            return
    if current is not None:
        await ctx.reply(
            f"Session {current.number} of {cohort.name} is already running. "
            "Use `/cohort session next`, `pause` or `end`."
        )
        return
    if not program.agenda:
        await ctx.reply(f"The program of {cohort.name} has no agenda to run.")
        return
    note_taker_id = None
    if ctx.command.mentions:
        origin = effects.origin
        if origin is None:
            raise RuntimeError("a command always has an origin")
        note_taker = await uow.people.ensure(
            IdentityFacts(
                platform=origin.platform,
                workspace=origin.workspace,
                user_id=ctx.command.mentions[0].user_id,
            ),
            now=effects.now,
        )
        note_taker_id = note_taker.id
    session = await runner.start(
        effects, cohort, facilitator_id=ctx.person.id, note_taker_id=note_taker_id
    )
    await ctx.reply(
        f"Session {session.number} of {cohort.name} started: the agenda is in the channel "
        "and moves on by itself. `/cohort session next | pause | resume | end` steer it."
    )
