"""`/cohort me`: the person's own page (cohorts, roles, badges, what waits), as a reply."""

from __future__ import annotations

from bot.commands.parser import CommandSpec
from bot.commands.router import CommandContext, CommandRouter
from bot.config import AppConfig
from bot.runtime.home import home_page

ME = CommandSpec(
    name="me",
    summary="Your cohorts, badges and kudos, and what waits for you",
    usage="",
    details="The same page as the bot's home tab in Slack.",
)


def register(*, router: CommandRouter, config: AppConfig) -> None:
    async def command(ctx: CommandContext) -> None:
        page = await home_page(ctx.effects.uow, config, ctx.person, ctx.effects.now)
        await ctx.effects.reply(page, person_id=ctx.person.id)

    router.register(ME, command)
