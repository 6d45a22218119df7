"""`/cohort deliveries @person`: what the bot sent someone, and whether it arrived."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.messages import Context, Section
from bot.model.roles import Role
from storage.models import OutboxMessage
from storage.statuses import OutboxStatus

SHOWN = 10
EXCERPT = 60

DELIVERIES = CommandSpec(
    name="deliveries",
    summary="What I sent a person, when, and whether it arrived",
    usage="@person [--cohort <cohort>]",
    options=(Option("cohort", "text", "the cohort, when you run more than one"),),
    roles=frozenset({Role.FACILITATOR, Role.OWNER, Role.MODERATOR}),
    details=(
        "Newest first: each message with when it was queued, and whether it was sent, is "
        "waiting for a retry after failing, or was given up on (dead-lettered) with the "
        "platform's error."
    ),
)


def status_text(row: OutboxMessage, zone: ZoneInfo) -> str:
    """Sent, retried, waiting for a retry, or dead-lettered, with the error where there is one."""
    retries = max(0, row.attempts - 1)
    again = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if row.status == OutboxStatus.SENT:
        when = f" at {row.sent_at.astimezone(zone):%d %b %H:%M}" if row.sent_at else ""
        return f"sent{when}{again}"
    if row.status == OutboxStatus.DEAD:
        return f"dead-lettered after {row.attempts} attempt(s): {row.last_error or 'no error'}"
    if row.status == OutboxStatus.SUPERSEDED:
        return "replaced by a newer version before it was sent"
    if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING) and row.last_error:
        retry = row.next_attempt_at.astimezone(zone)
        return f"failed {row.attempts} time(s), retrying {retry:%d %b %H:%M}: {row.last_error}"
    return "sending now" if row.status == OutboxStatus.SENDING else "waiting to be sent"


def _excerpt(row: OutboxMessage) -> str:
    text = " ".join(str(row.message.get("text", "")).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%d %b %H:%M}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def deliveries_command(ctx: CommandContext) -> None:
    origin, uow = ctx.effects.origin, ctx.effects.uow
    if origin is None or len(ctx.command.mentions) != 1:
        await ctx.reply(f"Mention one person.\nUsage: {DELIVERIES.usage_line()}")
        return
    mention = ctx.command.mentions[0].user_id
    found = await uow.people.find_identity(origin.platform, origin.workspace, mention)
    cohort = ctx.cohort
    roles = (
        await uow.cohorts.roles(cohort_id=cohort.id, person_id=found[1].id)
        if found and cohort
        else set()
    )
    if found is None or cohort is None or not roles:
        where = f" in {cohort.name}" if cohort else ""
        await ctx.reply(f"<@{mention}> is not a member{where}, so I show nothing.")
        return
    person = found[1]
    rows = await uow.outbox.for_person(person.id, limit=SHOWN)
    if not rows:
        await ctx.reply(f"I have sent {person.display_name} nothing yet.")
        return
    total = await uow.outbox.count_for_person(person.id)
    zone = _zone(ctx.person.time_zone)
    lines = [
        f"• {_when(row.created_at, zone)} ({row.target.get('kind', '?')} on {row.platform}) "
        f"“{_excerpt(row)}”: {status_text(row, zone)}"
        for row in rows
    ]
    title = f"Messages to {person.display_name}, newest first ({len(rows)} of {total}):"
    older = total - len(rows)
    hint = f"…and {older} older." if older else "That is everything."
    await ctx.reply(
        "\n".join([title, *lines, hint]),
        blocks=[Section(text=f"*{title}*\n" + "\n".join(lines)), Context(text=hint)],
    )
