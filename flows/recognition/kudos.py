"""`/cohort kudos @person <reason>`: peer recognition, announced in the cohort channel.

Each member may give `recognition.kudos_per_week` kudos per cohort per calendar week
(Monday 00:00 to Sunday 24:00 in the cohort's time zone); never to themselves, and never
without a reason. The channel post and the confirmation are rendered in `view`.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext, CommandRouter
from bot.config import AppConfig
from bot.model.roles import Role
from flows.common.mentioned import mentioned_member
from flows.recognition.view import kudos_announcement, kudos_sent

GIVEN = "kudos.given"
MAX_REASON = 500

KUDOS = CommandSpec(
    name="kudos",
    summary="Thank a peer in the cohort channel, with the reason",
    usage="@person <reason> [--cohort <cohort>]",
    max_args=None,
    options=(Option("cohort", "text", "the cohort, when you are in more than one"),),
    roles=frozenset(Role),
    details="Each member can give a few kudos a week (see app.yaml `recognition`).",
)


def week_start(now: datetime, time_zone: str) -> datetime:
    """Monday 00:00 of the week `now` falls in, in the cohort's time zone, as UTC."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)


async def kudos_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    limit = program.recognition.kudos_per_week
    if limit == 0:
        await ctx.reply(f"Kudos are turned off in {cohort.name}.")
        return
    found = await mentioned_member(ctx, cohort, usage="/cohort kudos @person for the great tips")
    if found.person is None:
        await ctx.reply(str(found.problem))
        return
    receiver = found.person
    if receiver.id == ctx.person.id:
        await ctx.reply("Kudos are for thanking someone else. Who helped you this week?")
        return
    reason = " ".join(ctx.command.args).strip()
    if not reason:
        await ctx.reply(
            f"Say what the kudos are for, e.g. `/cohort kudos <@{ctx.command.mentions[0].user_id}> "
            "for the clear feedback on my deck`."
        )
        return
    if len(reason) > MAX_REASON:
        await ctx.reply(f"Please keep the reason under {MAX_REASON} characters.")
        return
    uow = ctx.effects.uow
    await uow.badges.lock_giver(ctx.person.id)
    given = await uow.badges.kudos_given_since(
        cohort_id=cohort.id,
        giver_id=ctx.person.id,
        since=week_start(ctx.effects.now, cohort.time_zone),
    )
    if given >= limit:
        await ctx.reply(
            f"You've given your {limit} kudos for this week in {cohort.name}; "
            "you can give more from Monday."
        )
        return
    kudos = await uow.badges.give_kudos(
        cohort_id=cohort.id,
        giver_id=ctx.person.id,
        receiver_id=receiver.id,
        reason=reason,
        now=ctx.effects.now,
    )
    ctx.effects.log(
        GIVEN,
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        object_ref=f"kudos:{kudos.id}",
        data={"receiver_id": receiver.id, "reason": reason},
    )
    await ctx.effects.channel(
        cohort.id, kudos_announcement(ctx.person.display_name, receiver.display_name, reason)
    )
    await ctx.reply(kudos_sent(receiver.display_name, limit - given - 1))


def register(*, router: CommandRouter, config: AppConfig) -> None:
    async def command(ctx: CommandContext) -> None:
        await kudos_command(ctx, config=config)

    router.register(KUDOS, command)
