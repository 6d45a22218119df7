"""Running the finale: invite everyone to the closing survey, then celebrate.

Both steps are idempotent. Starting again invites only participants not invited yet
(`finale.invited` per person); the celebration is posted once per cohort
(`finale.celebrated`) and each manager summary is sent once per participant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.config import ProgramConfig
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import CohortTimer, Timers
from flows.common.availability import local_day
from flows.finale.celebration import achievements
from flows.finale.manager_summary import send_manager_summaries
from flows.finale.survey import finale_name
from flows.finale.view import celebration_message
from storage.models import Cohort

STARTED = "finale.started"
INVITED = "finale.invited"
CELEBRATED = "finale.celebrated"
START_TASK = "finale.start"
CELEBRATE_TASK = "finale.celebrate"


def start_key(cohort_id: int) -> str:
    return f"finale:{cohort_id}:start"


def celebrate_key(cohort_id: int) -> str:
    return f"finale:{cohort_id}:celebrate"


@dataclass(frozen=True)
class Started:
    invited: int
    first_time: bool


async def has_started(effects: Effects, cohort_id: int) -> bool:
    return await effects.uow.activity.count(verb=STARTED, cohort_id=cohort_id) > 0


async def start_finale(
    effects: Effects,
    *,
    engine: FlowEngine,
    cohort: Cohort,
    program: ProgramConfig,
    by: int | None,
) -> Started:
    """DM the closing survey to each participant not yet asked; schedule the celebration."""
    uow = effects.uow
    # The timer and a facilitator's command may meet: one at a time per cohort.
    await uow.matching.lock_cohort(cohort.id)
    first_time = not await has_started(effects, cohort.id)
    day = local_day(effects.now, cohort.time_zone)
    invited = 0
    for person in await uow.participation.promptable(cohort.id, day):
        if await uow.activity.count(verb=INVITED, cohort_id=cohort.id, person_id=person.id):
            continue
        effects.log(INVITED, person_id=person.id, cohort_id=cohort.id)
        await engine.start(
            flow_name=finale_name(cohort.program), person=person, cohort=cohort, effects=effects
        )
        invited += 1
    if first_time:
        effects.log(STARTED, cohort_id=cohort.id, data={"by": by, "invited": invited})
        timers = Timers(uow, effects.now)
        await timers.cancel(start_key(cohort.id))
        await timers.run_once(
            key=celebrate_key(cohort.id),
            task=CELEBRATE_TASK,
            at=effects.now + timedelta(hours=program.finale.celebrate_after_hours),
            payload=CohortTimer(cohort_id=cohort.id),
        )
    return Started(invited=invited, first_time=first_time)


async def celebrate(effects: Effects, *, cohort: Cohort, program: ProgramConfig) -> bool:
    """Post the celebration (once) and send the consented manager summaries; True if posted."""
    uow = effects.uow
    await uow.matching.lock_cohort(cohort.id)
    posted = False
    if not await uow.activity.count(verb=CELEBRATED, cohort_id=cohort.id):
        found = await achievements(uow, cohort, program)
        await effects.channel(cohort.id, celebration_message(cohort, found))
        effects.log(CELEBRATED, cohort_id=cohort.id, data=dict(found.counts))
        await Timers(uow, effects.now).cancel(celebrate_key(cohort.id))
        posted = True
    await send_manager_summaries(effects, cohort, program)
    return posted
