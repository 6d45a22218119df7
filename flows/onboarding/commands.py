"""`/cohort join`, `/cohort invite` and `/cohort profile`, and enrolling a person in a cohort."""

from __future__ import annotations

from bot.commands.router import WHICH_COHORT, CommandContext
from bot.model.roles import Role
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine
from flows.onboarding import profile
from flows.onboarding import survey as onboarding
from storage.models import Cohort, Person
from storage.repositories.people import IdentityFacts


async def enrol(
    *, engine: FlowEngine, effects: Effects, person: Person, cohort: Cohort, by: int | None
) -> bool:
    """Make the person a participant and start onboarding; False if they already were."""
    added = await effects.uow.cohorts.add_member(
        cohort_id=cohort.id, person_id=person.id, role=Role.PARTICIPANT, now=effects.now
    )
    if not added:
        return False
    effects.log(
        "cohort.joined",
        person_id=person.id,
        cohort_id=cohort.id,
        data={"invited_by": by} if by else None,
    )
    await engine.start(
        flow_name=onboarding.onboarding_name(cohort.program),
        person=person,
        cohort=cohort,
        effects=effects,
    )
    return True


async def join_command(ctx: CommandContext) -> None:
    # The router resolved the named cohort (and the person's roles in it) already.
    cohort = ctx.cohort
    if cohort is None:
        keys = ", ".join(c.key for c in await ctx.effects.uow.cohorts.all()) or "none yet"
        await ctx.reply(
            f"There is no cohort '{ctx.command.args[0]}'. Cohorts you can join: {keys}."
        )
        return
    if Role.PARTICIPANT in ctx.roles:
        await ctx.reply(f"You're already in {cohort.name}.")
        return
    await ctx.reply(f"You joined {cohort.name}. I've sent you a welcome message by DM.")
    await enrol(engine=ctx.engine, effects=ctx.effects, person=ctx.person, cohort=cohort, by=None)


async def invite_command(ctx: CommandContext) -> None:
    cohort, origin = ctx.cohort, ctx.effects.origin
    if cohort is None or origin is None:
        await ctx.reply(WHICH_COHORT)
        return
    if not ctx.command.mentions:
        await ctx.reply(f"Mention the people to invite.\nUsage: {ctx.spec.usage_line()}")
        return
    invited: list[str] = []
    already: list[str] = []
    for mention in ctx.command.mentions:
        person = await ctx.effects.uow.people.ensure(
            IdentityFacts(
                platform=origin.platform, workspace=origin.workspace, user_id=mention.user_id
            ),
            now=ctx.effects.now,
        )
        new = await enrol(
            engine=ctx.engine, effects=ctx.effects, person=person, cohort=cohort, by=ctx.person.id
        )
        (invited if new else already).append(f"<@{mention.user_id}>")
    parts = []
    if invited:
        parts.append(
            f"Invited to {cohort.name}: {', '.join(invited)}. Their onboarding has started."
        )
    if already:
        parts.append(f"Already in {cohort.name}: {', '.join(already)}.")
    await ctx.reply(" ".join(parts))


async def profile_command(ctx: CommandContext) -> None:
    mine = await ctx.effects.uow.cohorts.cohorts_of(ctx.person.id)
    cohort = ctx.cohort or (mine[0][0] if mine else None)
    program = ctx.engine.config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None:
        await ctx.reply("Join a cohort first: `/cohort join <cohort>`.")
        return
    field = None
    named = " ".join(ctx.command.args)  # `time zone` typed without quotes is one name
    if named:
        field = profile.field_named(program, named)
        if field is None:
            names = ", ".join(profile.fields_of(program, ctx.person.profile))
            await ctx.reply(
                f"Your profile has no answer '{named}'. "
                f"Answers you can change: {names}.\nUsage: {ctx.spec.usage_line()}"
            )
            return
    await profile.open_profile(ctx.engine, ctx.effects, ctx.person, cohort, field)
    if not (ctx.effects.origin and ctx.effects.origin.is_direct):
        what = "your profile" if field is None else "that question"
        await ctx.reply(f"I've sent you {what} by DM.")
