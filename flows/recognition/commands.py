"""`/cohort badge award` and `/cohort badges`, and the periodic badge pass per cohort.

The listings they reply with are rendered in `view`.
"""

from __future__ import annotations

from bot.commands.router import CommandContext
from bot.config import AppConfig, BadgeConfig, ProgramConfig
from bot.runtime.cohort_setup import CohortSetupContext
from bot.runtime.recurrence import every
from bot.runtime.scheduler import CohortTimer, TaskContext
from flows.common.mentioned import mentioned_member
from flows.recognition.awards import NewAward, announce, evaluate, record
from flows.recognition.rules import rule_of
from flows.recognition.view import badge_list, badges_listing, my_badges
from storage.models import BadgeAward, Cohort
from storage.repositories.badges import MANUAL

CHECK_TASK = "badges.check"
MAX_REASON = 500


def check_key(cohort_id: int) -> str:
    return f"badges:cohort:{cohort_id}:check"


async def install_check(ctx: CohortSetupContext) -> None:
    """Run the cohort's badge pass every `check_every_minutes`, when it has rule badges."""
    key = check_key(ctx.cohort.id)
    if not any(rule_of(badge) for badge in ctx.program.badges):
        await ctx.timers.cancel(key)
        return
    await ctx.timers.ensure_repeating(
        key=key,
        task=CHECK_TASK,
        rule=every(minutes=ctx.program.recognition.check_every_minutes),
        time_zone=ctx.cohort.time_zone,
        payload=CohortTimer(cohort_id=ctx.cohort.id),
    )


async def run_check(task: TaskContext, *, config: AppConfig) -> None:
    """One badge pass over the cohort's log."""
    cohort = await task.uow.cohorts.get(task.payload_as(CohortTimer)["cohort_id"])
    program = config.programs.get(cohort.program) if cohort else None
    if cohort is None or program is None or not cohort.is_active:
        return
    await evaluate(task.effects, cohort, program)


def find_badge(program: ProgramConfig, wanted: str) -> BadgeConfig | None:
    """A badge by id or by name, case-insensitively."""
    needle = wanted.strip().lower()
    return next(
        (b for b in program.badges if needle in (b.id.lower(), b.name.lower())),
        None,
    )


def split_badge(program: ProgramConfig, words: list[str]) -> tuple[BadgeConfig | None, list[str]]:
    """The badge the words start with (an id, or a name of several words), and the rest."""
    for length in range(len(words), 0, -1):
        badge = find_badge(program, " ".join(words[:length]))
        if badge is not None:
            return badge, words[length:]
    return None, words


async def award_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    if not program.badges:
        await ctx.reply(f"The program of {cohort.name} has no badges.")
        return
    choices = f"Badges: {badge_list(program.badges)}."
    if len(ctx.command.args) < 2:
        await ctx.reply(f"Which badge? Usage: `{ctx.spec.usage_line()}`. {choices}")
        return
    badge, reason_words = split_badge(program, list(ctx.command.args[1:]))
    if badge is None:
        await ctx.reply(f"There is no badge '{ctx.command.args[1]}'. {choices}")
        return
    found = await mentioned_member(ctx, cohort, usage=f"/cohort badge award @person {badge.id}")
    if found.person is None:
        await ctx.reply(f"{found.problem} {choices}")
        return
    reason = " ".join(reason_words).strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        await ctx.reply(f"Please keep the reason under {MAX_REASON} characters.")
        return
    person = found.person
    recorded = await record(
        ctx.effects,
        cohort,
        [
            NewAward(
                person_id=person.id,
                badge=badge,
                source=MANUAL,
                awarded_by=ctx.person.id,
                reason=reason,
            )
        ],
    )
    if not recorded:
        await ctx.reply(f"{person.display_name} already has the {badge.name} badge.")
        return
    await announce(ctx.effects, cohort, recorded)
    await ctx.reply(f"Awarded the {badge.name} badge to {person.display_name}.")


async def badges_command(ctx: CommandContext, *, config: AppConfig) -> None:
    resolved = await ctx.cohort_and_program(config)
    if resolved is None:
        return
    cohort, program = resolved
    if not program.badges:
        await ctx.reply(f"The program of {cohort.name} has no badges.")
        return
    if ctx.command.args:
        await _my_badges(ctx, cohort, program)
        return
    holders: dict[str, list[str]] = {}
    for award, person in await ctx.effects.uow.badges.of_cohort(cohort.id):
        holders.setdefault(award.badge, []).append(person.display_name)
    await ctx.effects.reply(
        badges_listing(cohort.name, program.badges, holders), person_id=ctx.person.id
    )


async def _my_badges(ctx: CommandContext, cohort: Cohort, program: ProgramConfig) -> None:
    mine: list[BadgeAward] = await ctx.effects.uow.badges.of_person(ctx.person.id, cohort.id)
    names = {badge.id: badge.name for badge in program.badges}
    if not mine:
        await ctx.reply(
            f"You have no badges in {cohort.name} yet. `/cohort badges` shows how to earn them."
        )
        return
    await ctx.reply(
        my_badges(cohort.name, [(names.get(a.badge, a.badge), a.awarded_at) for a in mine])
    )
