"""`/cohort dashboard`: a short-lived signed link to the dashboard, sent by DM."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.commands.parser import CommandSpec
from bot.commands.router import CommandContext, CommandRouter
from bot.config import AppConfig
from bot.model.messages import Context, Message, Section
from bot.web.dashboard import STAFF_ROLES
from bot.web.links import LINK_LIFETIME, DashboardLinks

DASHBOARD = CommandSpec(
    name="dashboard",
    summary="Get a link to the program dashboard (valid 15 minutes)",
    usage="",
    details=(
        "The link comes by DM and shows the cohorts where you are a facilitator, "
        "moderator, mentor or program owner. It expires after 15 minutes; ask again any time."
    ),
)


def dashboard_url(config: AppConfig, token: str) -> str:
    base = config.server.public_url or f"http://{config.server.host}:{config.server.port}"
    return f"{base.rstrip('/')}/dashboard?{urlencode({'token': token})}"


def register(*, router: CommandRouter, config: AppConfig, links: DashboardLinks) -> None:
    async def dashboard(ctx: CommandContext) -> None:
        mine = await ctx.effects.uow.cohorts.cohorts_of(ctx.person.id)
        keys = sorted({cohort.key for cohort, roles in mine if roles & STAFF_ROLES})
        if not keys:
            await ctx.reply(
                "The dashboard is for a cohort's facilitators, moderators, mentors and "
                "program owners. Your own progress is in `/cohort me`."
            )
            return
        token = links.sign(person_id=ctx.person.id, cohorts=keys, now=ctx.effects.now)
        url = dashboard_url(config, token)
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        text = f"Your dashboard link for {', '.join(keys)}: <{url}|open the dashboard>"
        await ctx.effects.dm(
            ctx.person.id,
            Message(
                text=text,
                blocks=[
                    Section(text=text),
                    Context(text=f"It works for {minutes} minutes; don't forward it."),
                ],
            ),
        )
        if not (ctx.effects.origin and ctx.effects.origin.is_direct):
            await ctx.reply("I've sent you a dashboard link by DM.")

    router.register(DASHBOARD, dashboard)
