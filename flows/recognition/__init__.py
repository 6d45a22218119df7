"""Badges: the periodic rule pass per cohort, `/cohort badge award` and `/cohort badges`.

Rules (`rules`) read the activity log, so a badge follows from whatever flow logged the
facts. Each active cohort's log is checked every `recognition.check_every_minutes`; a
facilitator can also award any badge by hand.

This module holds the command specs and `register()`. The commands and the rule pass
live in `commands`, recording and announcing awards in `awards`, Open Badges in
`open_badges` and `hosting`, and peer kudos in `kudos`; `view` renders what they post
and reply (pure functions).
"""

from __future__ import annotations

import logging

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.recognition import kudos
from flows.recognition.commands import (
    CHECK_TASK,
    award_command,
    badges_command,
    install_check,
    run_check,
)
from flows.recognition.rules import MANUAL_RULE, RULES, rule_of

log = logging.getLogger(__name__)

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})
MEMBERS = frozenset(Role)
COHORT_OPTION = Option("cohort", "text", "the cohort, when you are in more than one")

BADGE = CommandSpec(
    name="badge",
    summary="Award a badge to a member of your cohort",
    usage="award @person <badge> [reason] [--cohort <cohort>]",
    min_args=1,
    max_args=None,
    subcommands=("award",),
    options=(COHORT_OPTION,),
    roles=STAFF,
    details=(
        "Awards one of the program's badges by hand, announced in the cohort channel. "
        "`/cohort badges` lists the badges."
    ),
)
BADGES = CommandSpec(
    name="badges",
    summary="The program's badges and who has them; `mine` for your own",
    usage="[mine] [--cohort <cohort>]",
    max_args=1,
    subcommands=("mine",),
    options=(COHORT_OPTION,),
    roles=MEMBERS,
)


def register(wiring: Wiring) -> None:
    """Badges and kudos."""

    async def check_task(task: TaskContext) -> None:
        await run_check(task, config=wiring.config)

    async def award(ctx: CommandContext) -> None:
        await award_command(ctx, config=wiring.config)

    async def listing(ctx: CommandContext) -> None:
        await badges_command(ctx, config=wiring.config)

    for key, program in wiring.config.programs.items():
        for badge in program.badges:
            if rule_of(badge) is None and badge.rule != MANUAL_RULE:
                log.warning(
                    "badge %s of program %s names an unknown rule %r: it can only be "
                    "awarded by hand (known rules: %s)",
                    badge.id,
                    key,
                    badge.rule,
                    ", ".join(sorted(RULES)),
                )
    wiring.tasks.register(CHECK_TASK, check_task)
    wiring.setup.register(install_check)
    wiring.router.register(BADGE, award)
    wiring.router.register(BADGES, listing)
    kudos.register(router=wiring.router, config=wiring.config)
