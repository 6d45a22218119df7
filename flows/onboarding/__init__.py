"""Getting people into a cohort: `/cohort join`, a facilitator's `/cohort invite`, and
`/cohort profile` to see one's answers and change one. Each enrolment starts the
program's onboarding.

This module holds the command specs and `register()`. The commands and enrolment live
in `commands`, the onboarding conversation in `survey`, seeing and changing answers in
`profile`, what they say from plain data (welcome, summary, follow-ups, the profile) in
`view`, the manager's contact in `manager_contact`, and roster imports in `roster_csv`
and `roster_import`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.model.roles import Role
from bot.runtime.scheduler import TaskContext
from flows.common.wiring import Wiring
from flows.onboarding import profile
from flows.onboarding import survey as onboarding
from flows.onboarding.commands import invite_command, join_command, profile_command

JOIN = CommandSpec(
    name="join",
    summary="Join a cohort; I'll send you a welcome by DM",
    usage="<cohort>",
    min_args=1,
    max_args=1,
    details="Adds you to the cohort as a participant and starts your onboarding.",
)
INVITE = CommandSpec(
    name="invite",
    summary="Enrol people in your cohort and start their onboarding",
    usage="@person [@person ...] [--cohort <cohort>]",
    max_args=0,
    options=(Option("cohort", "text", "the cohort, when you run more than one"),),
    roles=frozenset({Role.FACILITATOR, Role.OWNER}),
)
PROFILE = CommandSpec(
    name="profile",
    summary="See your answers (skills, availability, time zone) and change one",
    usage="[answer]",
    max_args=None,
    details="Shows your onboarding answers with a Change button each; the answer you "
    "choose is asked again and only it is saved. `/cohort profile time_zone` (or any "
    "answer's name) asks that one straight away; `cancel` leaves everything as it was.",
)


def register(wiring: Wiring) -> None:
    for key, program in wiring.config.programs.items():
        wiring.engine.register(onboarding.onboarding_flow(key, program))
        wiring.engine.register(profile.profile_flow(key, program, wiring.engine))
        for flow in profile.change_flows(key, program):
            wiring.engine.register(flow)

    async def follow_up(task: TaskContext) -> None:
        await onboarding.follow_up(task, wiring.config)

    wiring.tasks.register(onboarding.FOLLOW_UP_TASK, follow_up)
    wiring.router.register(JOIN, join_command, cohort_arg=0)
    wiring.router.register(INVITE, invite_command)
    wiring.router.register(PROFILE, profile_command)
