"""Moderation and escalation as people use it: flag a message, ask for help, handle pings.

- A flagged message (Slack message shortcut, Teams message action, the playground's
  flag) and `/cohort help-me <text> [#tag]` raise an escalation for the cohort.
- Moderators, facilitators and owners acknowledge or resolve it with the ping's
  buttons, or with `/cohort escalation ack|resolve <id> [note]`; `/cohort escalations`
  lists what is still open. The reporter hears of both steps.

This module holds the command specs and `register()`. The commands, the flag and the
buttons are handled in `commands`; the mechanics (dedup, ping, SLA, tier 2) live in
`core`, the sweep for automatic escalations in `sweep`, and the ping's text in `view`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import ActionContext, CommandContext
from bot.model.events import FLAG_ACTION
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.escalation.commands import (
    ack_or_resolve_button,
    escalation_command,
    escalations_command,
    flag_action,
    help_me_command,
)
from flows.escalation.core import ACK_ACTION, RESOLVE_ACTION, SLA_TASK, tier_two
from flows.escalation.sweep import SWEEP_TASK, install_sweep, sweep

STAFF_ROLES = frozenset({Role.MODERATOR, Role.FACILITATOR, Role.OWNER})

HELP_ME = CommandSpec(
    name="help-me",
    summary="Ask the moderators for help (add #content, #conduct or #tech)",
    usage="<what you need> [#tag]",
    max_args=None,
    options=(Option("cohort", "text", "the cohort, when you are in several"),),
    details=(
        "`/cohort help-me I can't open the session link #tech` tells the moderators "
        "(or whoever the tag goes to) and I'll let you know when someone picks it up."
    ),
)
ESCALATIONS = CommandSpec(
    name="escalations",
    summary="List the open escalations with their age and deadline",
    usage="[--cohort <cohort>]",
    options=(Option("cohort", "text", "the cohort, when you are in several"),),
    roles=STAFF_ROLES,
)
ESCALATION = CommandSpec(
    name="escalation",
    summary="Moderators: acknowledge or resolve an escalation by number",
    usage="ack|resolve <number> [note]",
    min_args=2,
    max_args=None,
    subcommands=("ack", "resolve"),
    details="The same as the Acknowledge and Resolve buttons on the moderators' ping.",
)


def register(wiring: Wiring) -> None:

    async def help_me(ctx: CommandContext) -> None:
        await help_me_command(ctx, wiring.config)

    async def flag(ctx: ActionContext) -> None:
        await flag_action(ctx, wiring.config)

    async def sweep_cohort(task: TaskContext) -> None:
        await sweep(task, config=wiring.config)

    wiring.router.register(HELP_ME, help_me)
    wiring.router.register(ESCALATIONS, escalations_command)
    wiring.router.register(ESCALATION, escalation_command)
    wiring.router.register_action(FLAG_ACTION, flag)
    wiring.router.register_action(ACK_ACTION, ack_or_resolve_button)
    wiring.router.register_action(RESOLVE_ACTION, ack_or_resolve_button)
    wiring.tasks.register(SLA_TASK, tier_two)
    wiring.tasks.register(SWEEP_TASK, sweep_cohort)
    wiring.setup.register(install_sweep)
