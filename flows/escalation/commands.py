"""Escalations as people raise and handle them: `/cohort help-me`, a flagged message,
`/cohort escalations`, `/cohort escalation ack|resolve` and the ping's buttons.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from pydantic import ValidationError

from bot.commands.router import ActionContext, CommandContext
from bot.config import AppConfig
from bot.model.events import FlaggedMessage
from bot.runtime.effects import Effects
from flows.escalation.core import (
    ACK_ACTION,
    acknowledge,
    raise_escalation,
    resolve,
    settings,
    staff_cohorts,
)
from flows.escalation.view import kind_label, when
from storage.models import Cohort, Escalation, Person
from storage.repositories.escalations import NewEscalation
from storage.statuses import EscalationStatus

_TAG = re.compile(r"(?<![\w#])#([a-z0-9][a-z0-9_-]*)", re.IGNORECASE)
MAX_SUMMARY = 2000
MAX_ID = 2**31 - 1
"""Larger numbers are no escalation's (and would overflow the database's integer)."""
NOT_STAFF = "Only the cohort's moderators, facilitators and owners can handle escalations."


def find_tag(text: str, tags: list[str]) -> str | None:
    """The first `#tag` in the text that the program knows, lower-cased."""
    known = {tag.lower() for tag in tags}
    for match in _TAG.finditer(text):
        if match[1].lower() in known:
            return match[1].lower()
    return None


async def _help_cohort(ctx: CommandContext) -> Cohort | str:
    """Where a call for help goes: one of the person's own cohorts, never anyone else's.

    Named with `--cohort`, else the channel's when it is theirs, else their only one.
    """
    mine = [cohort for cohort, _roles in await ctx.effects.uow.cohorts.cohorts_of(ctx.person.id)]
    named = ctx.command.options.get("cohort")
    if isinstance(named, str):
        return _own_cohort(mine, named)
    channel = ctx.channel_cohort
    if channel is not None and any(cohort.id == channel.id for cohort in mine):
        return channel
    return _only_cohort(mine)


def _own_cohort(mine: list[Cohort], named: str) -> Cohort | str:
    """The named cohort if the person is in it; the same refusal whether it exists or not."""
    for cohort in mine:
        if cohort.key == named.lower():
            return cohort
    refusal = f"You can ask for help only in a cohort you are in, and you are not in '{named}'."
    if not mine:
        return f"{refusal} Join one with `/cohort join <cohort>`."
    return f"{refusal} Yours: {', '.join(cohort.key for cohort in mine)}."


def _only_cohort(mine: list[Cohort]) -> Cohort | str:
    """The person's cohort when they have exactly one; else what to tell them."""
    if len(mine) == 1:
        return mine[0]
    if not mine:
        return "You are not in a cohort yet, so I don't know whose moderators to ask."
    keys = ", ".join(cohort.key for cohort in mine)
    return f"You are in several cohorts ({keys}); name one, e.g. `--cohort {mine[0].key}`."


async def _flag_cohort(effects: Effects, person: Person) -> Cohort | str:
    """The cohort a flag is raised in: the channel's (where the message is), else theirs."""
    origin = effects.origin
    if origin is not None and origin.channel_id and not origin.is_direct:
        cohort = await effects.uow.cohorts.by_channel(origin.platform, origin.channel_id)
        if cohort is not None:
            return cohort
    return _only_cohort([cohort for cohort, _ in await effects.uow.cohorts.cohorts_of(person.id)])


async def help_me_command(ctx: CommandContext, config: AppConfig) -> None:
    text = " ".join(ctx.command.args).strip()
    cohort = await _help_cohort(ctx)
    tags = settings(config, cohort if isinstance(cohort, Cohort) else None).tags
    if not text:
        await ctx.reply(
            "Tell me what you need help with, e.g. "
            "`/cohort help-me I can't open the session link #tech`. "
            f"Tags route it to the right people: {', '.join('#' + t for t in tags)}."
        )
        return
    if isinstance(cohort, str):
        await ctx.reply(cohort)
        return
    escalation = await raise_escalation(
        ctx.effects,
        NewEscalation(
            kind="help",
            dedup_key=f"help:{ctx.effects.source}",
            cohort_id=cohort.id,
            tag=find_tag(text, tags),
            reporter_id=ctx.person.id,
            summary=text[:MAX_SUMMARY],
        ),
        config=config,
    )
    if escalation is None:
        return  # this very request was raised already
    await ctx.reply(
        f"Thanks, I've told the moderators of {cohort.name} (#{escalation.id}). "
        "I'll let you know when someone picks it up."
    )


async def flag_action(ctx: ActionContext, config: AppConfig) -> None:
    try:
        flagged = FlaggedMessage.model_validate_json(ctx.value)
    except ValidationError:
        flagged = FlaggedMessage(text=ctx.value)
    effects = ctx.effects
    cohort = await _flag_cohort(effects, ctx.person)
    if isinstance(cohort, str):
        await ctx.reply(cohort)
        return
    origin = effects.origin
    platform, workspace = (origin.platform, origin.workspace) if origin else ("", "")
    subject = None
    if flagged.author_id:
        found = await effects.uow.people.find_identity(platform, workspace, flagged.author_id)
        subject = found[1].id if found is not None else None
    about = flagged.ref or hashlib.sha256(flagged.text.encode()).hexdigest()[:32]
    key = f"flag:{platform}:{workspace}:{about}"
    escalation = await raise_escalation(
        effects,
        NewEscalation(
            kind="flag",
            dedup_key=key,
            cohort_id=cohort.id,
            tag=find_tag(flagged.note, settings(config, cohort).tags),
            reporter_id=ctx.person.id,
            subject_id=subject,
            summary=(flagged.text or "(a message without text)")[:MAX_SUMMARY],
            context={
                "link": flagged.link,
                "note": flagged.note[:MAX_SUMMARY],
                "author": flagged.author_name,
            },
        ),
        config=config,
    )
    if escalation is not None:
        await ctx.reply(
            f"Thanks for flagging it. The moderators of {cohort.name} have it (#{escalation.id}); "
            "I'll let you know when someone picks it up."
        )
        return
    existing = await effects.uow.escalations.by_dedup_key(key)
    if existing is not None:
        effects.uow.escalations.record(
            existing.id, at=effects.now, action="flagged_again", actor_id=ctx.person.id
        )
        handled = (
            "a moderator resolved it; if it goes on, use `/cohort help-me`"
            if existing.status == EscalationStatus.RESOLVED
            else "the moderators have it"
        )
        await ctx.reply(f"That message was flagged already (#{existing.id}); {handled}.")


async def _find(effects: Effects, person: Person, raw: str) -> Escalation | str:
    """The escalation `raw` names if the person may handle it; else what to tell them.

    Roles are checked before any lookup, and the lookup is limited to the person's own
    cohorts: a number they may not handle gets the answer of a number never used.
    """
    digits = raw.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()):
        return f"'{raw}' is not an escalation number; see `/cohort escalations`."
    cohorts = await staff_cohorts(effects, person)
    if not cohorts:
        return NOT_STAFF
    number = int(digits)
    found = (
        await effects.uow.escalations.get_in(number, cohorts, lock=True)
        if number <= MAX_ID
        else None
    )
    return found or (
        f"There is no escalation #{number} that you can handle; "
        "`/cohort escalations` lists the open ones."
    )


async def _act(effects: Effects, person: Person, raw_id: str, step: str, note: str) -> str | None:
    """Acknowledge or resolve as `person`; returns what to tell them, if anything."""
    escalation = await _find(effects, person, raw_id)
    if isinstance(escalation, str):
        return escalation
    if step == "ack":
        return await acknowledge(effects, escalation, person=person, note=note)
    return await resolve(effects, escalation, person=person, note=note)


async def ack_or_resolve_button(ctx: ActionContext) -> None:
    step = "ack" if ctx.action_id == ACK_ACTION else "resolve"
    problem = await _act(ctx.effects, ctx.person, ctx.value, step, "")
    if problem is not None:
        await ctx.reply(problem)


async def escalation_command(ctx: CommandContext) -> None:
    step, raw_id, *note = ctx.command.args
    problem = await _act(ctx.effects, ctx.person, raw_id, step.lower(), " ".join(note))
    done = "acknowledged" if step.lower() == "ack" else "resolved"
    await ctx.reply(problem or f"#{raw_id.lstrip('#')} is {done}.")


async def escalations_command(ctx: CommandContext) -> None:
    cohort = ctx.cohort
    if cohort is None:
        return  # the router answered already: a role-restricted command needs a cohort
    effects = ctx.effects
    rows = await effects.uow.escalations.unresolved(cohort.id)
    if not rows:
        await ctx.reply(f"Nothing open in {cohort.name}.")
        return
    lines = [f"Open escalations in {cohort.name}:"]
    for row in rows:
        age = _age(effects.now - row.created_at)
        if row.status == EscalationStatus.ACKNOWLEDGED:
            sla = "acknowledged"
        elif row.tier == 2:
            sla = "overdue, with the owners"
        elif row.ack_due_at <= effects.now:
            sla = "overdue"
        else:
            sla = f"acknowledge by {when(row.ack_due_at, cohort.time_zone)}"
        tag = f" #{row.tag}" if row.tag else ""
        lines.append(f"#{row.id} {kind_label(row.kind)}{tag}, {age} old, {sla}: {row.summary[:80]}")
    lines.append("Handle one with `/cohort escalation ack|resolve <number> [note]`.")
    await ctx.reply("\n".join(lines))


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
