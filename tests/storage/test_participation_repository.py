"""The participation repository: who takes part, who can be prompted, who went inactive."""

from __future__ import annotations

from datetime import timedelta

from bot.model.roles import Role
from storage.db import SessionFactory
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_participants, add_people

TODAY = NOW.date()


async def test_participants_are_the_cohorts_participants_by_name(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        zoe, alex = await add_participants(uow, cohort, "Zoe", "Alex")
        (other_alex,) = await add_participants(uow, cohort, "Alex")
        (fran,) = await add_people(uow, "Fran")
        await uow.cohorts.add_member(
            cohort_id=cohort, person_id=fran, role=Role.FACILITATOR, now=NOW
        )
        await add_participants(uow, other, "Kim")

    async with unit_of_work(sessions) as uow:
        participants = await uow.participation.participants(cohort)

    assert [person.id for person, _ in participants] == [alex, other_alex, zoe]
    assert all(m.role == Role.PARTICIPANT and m.cohort_id == cohort for _, m in participants)


async def test_promptable_leaves_out_who_is_away_that_day_or_inactive(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        here, back_today, away_today, inactive = await add_participants(
            uow, cohort, "Here", "Back", "Away", "Inactive"
        )
        people = await uow.people.by_ids([back_today, away_today])
        people[back_today].away_until = TODAY - timedelta(days=1)
        people[away_today].away_until = TODAY
        membership = await uow.participation.membership(cohort, inactive)
        assert membership is not None
        membership.inactive_since = NOW - timedelta(days=3)

    async with unit_of_work(sessions) as uow:
        today = await uow.participation.promptable(cohort, TODAY)
        tomorrow = await uow.participation.promptable(cohort, TODAY + timedelta(days=1))

    assert [person.id for person in today] == [back_today, here]
    assert [person.id for person in tomorrow] == [away_today, back_today, here]


async def test_membership_is_the_participant_role_in_that_cohort_only(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        (alex,) = await add_participants(uow, cohort, "Alex")
        (fran,) = await add_people(uow, "Fran")
        await uow.cohorts.add_member(
            cohort_id=cohort, person_id=fran, role=Role.FACILITATOR, now=NOW
        )

    async with unit_of_work(sessions) as uow:
        membership = await uow.participation.membership(cohort, alex)
        assert await uow.participation.membership(cohort, fran) is None
        assert await uow.participation.membership(other, alex) is None

    assert membership is not None
    assert (membership.person_id, membership.role) == (alex, Role.PARTICIPANT)
    assert (membership.missed_in_a_row, membership.inactive_since) == (0, None)


async def test_participants_among_are_those_of_the_people_taking_part_in_the_cohort(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        alex, sam = await add_participants(uow, cohort, "Alex", "Sam")
        (kim,) = await add_participants(uow, other, "Kim")
        (fran,) = await add_people(uow, "Fran")
        await uow.cohorts.add_member(
            cohort_id=cohort, person_id=fran, role=Role.FACILITATOR, now=NOW
        )

    async with unit_of_work(sessions) as uow:
        found = await uow.participation.participants_among(cohort, [sam, kim, fran, alex + 100])
        assert await uow.participation.participants_among(cohort, []) == {}

    assert list(found) == [sam]
    person, membership = found[sam]
    assert (person.display_name, membership.cohort_id, membership.role) == (
        "Sam",
        cohort,
        Role.PARTICIPANT,
    )


async def test_an_answer_resets_missed_prompts_and_ends_inactivity_once(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        inactive, behind = await add_participants(uow, cohort, "Inactive", "Behind")
        (outsider,) = await add_people(uow, "Outsider")
        for person, missed, since in ((inactive, 3, NOW), (behind, 2, None)):
            membership = await uow.participation.membership(cohort, person)
            assert membership is not None
            membership.missed_in_a_row, membership.inactive_since = missed, since

    async with unit_of_work(sessions) as uow:
        ended = await uow.participation.mark_answered(cohort, inactive)
        caught_up = await uow.participation.mark_answered(cohort, behind)
        not_a_member = await uow.participation.mark_answered(cohort, outsider)
    async with unit_of_work(sessions) as uow:
        again = await uow.participation.mark_answered(cohort, inactive)
        rows = [await uow.participation.membership(cohort, p) for p in (inactive, behind)]

    assert (ended, caught_up, not_a_member, again) == (True, False, False, False)
    assert [(m.missed_in_a_row, m.inactive_since) for m in rows if m] == [(0, None), (0, None)]


async def test_inactive_lists_participants_with_when_they_went_inactive(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        zoe, active, alex = await add_participants(uow, cohort, "Zoe", "Active", "Alex")
        since = {zoe: NOW - timedelta(days=2), alex: NOW - timedelta(days=9)}
        for person, at in since.items():
            membership = await uow.participation.membership(cohort, person)
            assert membership is not None
            membership.inactive_since = at

    async with unit_of_work(sessions) as uow:
        inactive = await uow.participation.inactive(cohort)

    assert [(person.id, at) for person, at in inactive] == [(alex, since[alex]), (zoe, since[zoe])]
    assert active not in {person.id for person, _ in inactive}
