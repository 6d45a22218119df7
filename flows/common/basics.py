"""Everyday commands: help, the list of cohorts, and a cohort's members; rendered in `view`."""

from __future__ import annotations

from bot.commands.parser import CommandSpec
from bot.commands.router import CommandContext, CommandRouter
from bot.model.roles import Role
from flows.common.view import cohort_list, help_reply, member_list
from storage.models import Person
from storage.uow import UnitOfWork

HELP = CommandSpec(
    name="help",
    summary="Show the commands, or how to use one",
    usage="[command]",
    max_args=1,
)
COHORTS = CommandSpec(name="cohorts", summary="List the cohorts and the ones you are in", usage="")
MEMBERS = CommandSpec(
    name="members",
    summary="List a cohort's members and their roles",
    usage="[cohort]",
    max_args=1,
    roles=frozenset({Role.FACILITATOR, Role.MODERATOR, Role.OWNER, Role.MENTOR}),
)


async def help_command(ctx: CommandContext) -> None:
    if ctx.command.args:
        name = ctx.command.args[0].lower()
        if ctx.table.get(name) is None:
            await ctx.reply(f"There is no command '{name}'. Type `/cohort help` for the list.")
            return
        text = ctx.table.command_help(name)
    else:
        roles = await _all_roles(ctx)
        text = "Here's what you can ask me:\n" + ctx.table.help_text(roles)
    await ctx.effects.reply(help_reply(text), person_id=ctx.person.id)


async def _all_roles(ctx: CommandContext) -> frozenset[Role]:
    roles: set[Role] = {Role.PARTICIPANT}
    for _cohort, names in await ctx.effects.uow.cohorts.cohorts_of(ctx.person.id):
        roles.update(Role(name) for name in names)
    return frozenset(roles)


async def cohorts_command(ctx: CommandContext) -> None:
    uow = ctx.effects.uow
    mine = {cohort.id: names for cohort, names in await uow.cohorts.cohorts_of(ctx.person.id)}
    await ctx.reply(cohort_list(await uow.cohorts.all(), mine))


async def members_command(ctx: CommandContext) -> None:
    cohort = ctx.cohort
    if cohort is None:
        await ctx.reply("Which cohort? Use `/cohort members <cohort>`.")
        return
    uow = ctx.effects.uow
    members = await uow.cohorts.members(cohort.id)
    await ctx.effects.reply(
        member_list(cohort.name, members, invited=await _invited(uow, cohort.id, members)),
        person_id=ctx.person.id,
    )


async def _invited(uow: UnitOfWork, cohort_id: int, members: list[tuple[Person, str]]) -> list[str]:
    """Names of the people invited (config or roster import) who have not joined yet."""
    joined = {person.id for person, _role in members}
    invitations = await uow.activity.of_cohort(cohort_id=cohort_id, verb="cohort.invited")
    waiting = {entry.person_id for entry in invitations if entry.person_id is not None} - joined
    people = await uow.people.by_ids(sorted(waiting))
    return sorted(person.display_name or "Someone" for person in people.values())


def register(router: CommandRouter) -> None:
    router.register(HELP, help_command)
    router.register(COHORTS, cohorts_command)
    router.register(MEMBERS, members_command, cohort_arg=0)
