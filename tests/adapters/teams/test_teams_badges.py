"""Badges in Teams: a rule badge reaches the person's chat and the channel; `cohort me`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import BadgeAward, Identity
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import CHANNEL, TeamsRig

PERSONAL = "message_personal.json"


async def test_a_first_check_in_badge_reaches_teams_and_shows_in_cohort_me(
    teams_rig: TeamsRig,
) -> None:
    joined = teams_rig.activity(PERSONAL, text="cohort join pilot-a")
    await teams_rig.send(joined)
    conversation = joined["conversation"]["id"]
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        identity = await uow.session.scalar(
            select(Identity).where(Identity.platform_user_id == joined["from"]["id"])
        )
        assert identity is not None
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        uow.activity.append(
            verb="checkin.answered",
            at=teams_rig.clock.now(),
            person_id=identity.person_id,
            cohort_id=cohort.id,
            object_ref="checkin_round:1",
            data={"number": 1},
        )

    teams_rig.clock.advance(timedelta(minutes=15))
    await teams_rig.bot.settle()

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        (award,) = await uow.session.scalars(select(BadgeAward))
    assert (award.person_id, award.badge) == (identity.person_id, "first-checkin")
    assert any(
        "You earned the **First check-in** badge" in t for t in teams_rig.texts(conversation)
    )
    assert any(
        "Alex Schneider earned the **First check-in** badge" in t for t in teams_rig.texts(CHANNEL)
    )

    await teams_rig.send(teams_rig.activity(PERSONAL, id="1763884800999", text="cohort me"))
    page = teams_rig.texts(conversation)[-1]
    assert "Pilot cohort A" in page
    assert "First check-in" in page
