"""The end-of-program summary to a participant's manager: only with consent, only once.

Sent when the cohort celebrates, for each participant who completed the program, said
yes to sharing in onboarding (`manager_consent`), and named a manager the bot knows
(by email, or the person behind a mention). The summary holds counts of the person's
own activity and their skill self-ratings before and after; never check-in texts,
review comments, evaluation answers or anything about other participants. The
participant is told what was sent, and to whom.

This module gathers the summary and sends it; what it says is in `flows.finale.view`.
"""

from __future__ import annotations

from typing import Any

from bot.config import ProgramConfig
from bot.model.messages import Message
from bot.runtime.effects import Effects
from flows.finale import view
from flows.onboarding.manager_contact import find_manager
from storage.models import Cohort, Person

SENT = "manager.summary_sent"
UNREACHABLE = "manager.summary_unreachable"
PERSONAL = (
    ("Check-ins shared", "checkin.answered"),
    ("Sessions attended", "session.attended"),
    ("Peer reviews given", "review.given"),
    ("Commitments kept", "commitment.kept"),
    ("Badges earned", "badge.awarded"),
)


async def _latest(effects: Effects, cohort_id: int, person_id: int, verb: str) -> dict[str, Any]:
    rows = await effects.uow.activity.of_cohort(cohort_id=cohort_id, verb=verb, person_id=person_id)
    return dict(rows[-1].data) if rows else {}


async def summary_message(
    effects: Effects, cohort: Cohort, program: ProgramConfig, person: Person
) -> Message:
    """What the manager reads about one participant, counted from the activity log."""
    items: list[tuple[str, str]] = []
    for label, verb in PERSONAL:
        n = await effects.uow.activity.count(verb=verb, cohort_id=cohort.id, person_id=person.id)
        items.append((label, str(n)))
    before = await _latest(effects, cohort.id, person.id, "assessment.pre")
    after = await _latest(effects, cohort.id, person.id, "assessment.post")
    for skill, rating in after.items():
        was = before.get(skill)
        change = f"{was} → {rating}" if was is not None else str(rating)
        items.append((f"Self-rating: {skill}", change))
    return view.manager_summary(
        person.display_name, cohort.name, items, program.onboarding.assessment_scale_max
    )


async def send_manager_summaries(effects: Effects, cohort: Cohort, program: ProgramConfig) -> int:
    """DM the managers of consenting participants who completed; returns how many were sent."""
    uow = effects.uow
    completed = {
        row.person_id
        for row in await uow.activity.of_cohort(cohort_id=cohort.id, verb="program.completed")
    }
    done = {row.person_id for row in await uow.activity.of_cohort(cohort_id=cohort.id, verb=SENT)}
    sent = 0
    for person, _membership in await uow.participation.participants(cohort.id):
        if person.id not in completed or person.id in done:
            continue
        if person.profile.get("manager_consent") is not True:
            continue  # without an explicit yes, nothing about the person leaves the cohort
        manager = await find_manager(uow, person)
        message = await summary_message(effects, cohort, program, person) if manager else None
        if manager is None or message is None or not await effects.dm(manager.id, message):
            effects.log(UNREACHABLE, person_id=person.id, cohort_id=cohort.id)
            continue
        effects.log(SENT, person_id=person.id, cohort_id=cohort.id, data={"manager_id": manager.id})
        await effects.dm(person.id, view.summary_sent_note(manager.display_name, cohort.name))
        sent += 1
    return sent
