"""Awarding badges: record once, log `badge.awarded`, announce in the channel, DM the person.

Rule passes and manual awards share this path. An award is inserted if absent under the
unique (cohort, person, badge) key, so repeated or concurrent passes award once and only
the run whose insert won announces it. What the posts and DMs say is in `view`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import BadgeConfig, ProgramConfig
from bot.runtime.effects import Effects
from flows.recognition import rules as badge_rules
from flows.recognition.view import Awarded, announcements, congratulations
from storage.models import Cohort
from storage.repositories.badges import MANUAL, RULE, NewAwardRow

AWARDED = "badge.awarded"


@dataclass(frozen=True)
class NewAward:
    person_id: int
    badge: BadgeConfig
    source: str
    awarded_by: int | None = None
    reason: str | None = None


def badge_ref(badge_id: str) -> str:
    return f"badge:{badge_id}"


async def record(effects: Effects, cohort: Cohort, awards: Iterable[NewAward]) -> list[NewAward]:
    """Insert the awards not held yet and log each; returns the ones this call recorded."""
    wanted = sorted(awards, key=lambda a: (a.person_id, a.badge.id))
    recorded_keys = await effects.uow.badges.award(
        cohort_id=cohort.id,
        awards=[
            NewAwardRow(
                person_id=a.person_id,
                badge=a.badge.id,
                source=a.source,
                awarded_by=a.awarded_by,
                reason=a.reason,
            )
            for a in wanted
        ],
        now=effects.now,
    )
    recorded = [a for a in wanted if (a.person_id, a.badge.id) in recorded_keys]
    for award in recorded:
        effects.log(
            AWARDED,
            person_id=award.person_id,
            cohort_id=cohort.id,
            object_ref=badge_ref(award.badge.id),
            data={"source": award.source, "awarded_by": award.awarded_by, "reason": award.reason},
        )
    return recorded


async def announce(effects: Effects, cohort: Cohort, awards: list[NewAward]) -> None:
    """One channel post for the awards of this run, and one DM per recipient."""
    if not awards:
        return
    ids = {a.person_id for a in awards} | {a.awarded_by for a in awards if a.awarded_by}
    people = await effects.uow.people.by_ids(sorted(ids))

    def name(person_id: int | None) -> str:
        person = people.get(person_id) if person_id is not None else None
        return person.display_name if person else "someone"

    def shown(award: NewAward) -> Awarded:
        return Awarded(
            badge=award.badge,
            recipient=name(award.person_id),
            giver=name(award.awarded_by),
            by_hand=award.source == MANUAL,
            reason=award.reason,
        )

    for message in announcements(cohort.name, [shown(a) for a in awards]):
        await effects.channel(cohort.id, message)
    by_person: dict[int, list[NewAward]] = {}
    for award in awards:
        by_person.setdefault(award.person_id, []).append(award)
    for person_id, theirs in by_person.items():
        await effects.dm(person_id, congratulations(cohort.name, [shown(a) for a in theirs]))


async def evaluate(
    effects: Effects,
    cohort: Cohort,
    program: ProgramConfig,
) -> list[NewAward]:
    """Award every rule badge earned in the cohort and not yet held."""
    if not program.badges:
        return []
    uow = effects.uow
    earned = await badge_rules.earned(
        uow,
        cohort_id=cohort.id,
        badges=program.badges,
        settings=program.recognition,
    )
    missing = earned - await uow.badges.held(cohort.id)
    if not missing:
        return []
    by_id = {badge.id: badge for badge in program.badges}
    known = await uow.people.by_ids(sorted({person_id for person_id, _ in missing}))
    recorded = await record(
        effects,
        cohort,
        [
            NewAward(person_id=person_id, badge=by_id[badge_id], source=RULE)
            for person_id, badge_id in missing
            if person_id in known
        ],
    )
    await announce(effects, cohort, recorded)
    return recorded
