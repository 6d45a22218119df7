"""`/cohort pair [pairs|triads]`: run a matching cycle (`cycle`) now and show its groups."""

from __future__ import annotations

from bot.commands.router import WHICH_COHORT, CommandContext
from bot.config import AppConfig
from bot.model.messages import Context, Section
from flows.matching.cycle import NotEnoughPeople, run_cycle, summary


async def pair_command(ctx: CommandContext, config: AppConfig) -> None:
    cohort = ctx.cohort
    if cohort is None:
        await ctx.reply(WHICH_COHORT)
        return
    program = config.programs.get(cohort.program)
    if program is None:
        await ctx.reply(f"{cohort.name} has no known program, so I can't pair it.")
        return
    mode = ctx.command.args[0].lower() if ctx.command.args else program.matching.mode
    try:
        cycle = await run_cycle(effects=ctx.effects, cohort=cohort, program=program, mode=mode)
    except NotEnoughPeople as problem:
        await ctx.reply(str(problem))
        return
    text = summary(cycle)
    note = "Each group got an intro by DM with why they were matched and a first task."
    await ctx.reply(text, blocks=[Section(text=text), Context(text=note)])
