"""The one cohort member a command names by @mention, found without creating anybody."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.router import CommandContext
from storage.models import Cohort, Person


@dataclass(frozen=True)
class Mentioned:
    person: Person | None
    problem: str | None


async def mentioned_member(ctx: CommandContext, cohort: Cohort, *, usage: str) -> Mentioned:
    """The person mentioned, if exactly one is and they are in the cohort; else the problem."""
    mentions = ctx.command.mentions
    if not mentions:
        return Mentioned(None, f"Mention the person, e.g. `{usage}`.")
    if len({m.user_id for m in mentions}) > 1:
        return Mentioned(None, "Mention one person at a time.")
    origin = ctx.effects.origin
    user_id = mentions[0].user_id
    found = (
        await ctx.effects.uow.people.find_identity(origin.platform, origin.workspace, user_id)
        if origin is not None
        else None
    )
    if found is None:
        return Mentioned(None, f"<@{user_id}> is not a member of {cohort.name}.")
    person = found[1]
    if not await ctx.effects.uow.cohorts.roles(cohort_id=cohort.id, person_id=person.id):
        return Mentioned(None, f"{person.display_name} is not a member of {cohort.name}.")
    return Mentioned(person, None)
