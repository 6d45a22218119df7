"""The cohort repository: cohorts by key, one channel per platform, roles held once."""

from __future__ import annotations

from datetime import date, timedelta

from bot.model.roles import Role
from storage.db import SessionFactory
from storage.repositories.people import IdentityFacts
from storage.statuses import CohortStatus
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, add_cohort, add_people


async def test_upsert_creates_then_refreshes_a_cohort_and_never_clears_its_start_date(
    sessions: SessionFactory,
) -> None:
    kickoff = date(2026, 11, 30)
    async with unit_of_work(sessions) as uow:
        created = await uow.cohorts.upsert(
            key="pilot-a",
            name="Pilot A",
            program="pilot",
            time_zone="UTC",
            now=NOW,
            start_date=kickoff,
        )
    async with unit_of_work(sessions) as uow:
        refreshed = await uow.cohorts.upsert(
            key="pilot-a",
            name="Pilot A (renamed)",
            program="pilot-v2",
            time_zone="Europe/Berlin",
            now=NOW + timedelta(days=1),
        )
        assert await uow.cohorts.by_key("pilot-b") is None
    async with unit_of_work(sessions) as uow:
        stored = await uow.cohorts.get(created.id)
        assert await uow.cohorts.get(created.id + 100) is None

    assert refreshed.id == created.id
    assert stored is not None
    assert (stored.name, stored.program, stored.time_zone) == (
        "Pilot A (renamed)",
        "pilot-v2",
        "Europe/Berlin",
    )
    assert (stored.start_date, stored.created_at) == (kickoff, NOW)
    assert stored.status == CohortStatus.ACTIVE


async def test_all_cohorts_are_listed_by_key(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        for key in ("pilot-c", "pilot-a", "pilot-b"):
            await add_cohort(uow, key)
    async with unit_of_work(sessions) as uow:
        assert [cohort.key for cohort in await uow.cohorts.all()] == [
            "pilot-a",
            "pilot-b",
            "pilot-c",
        ]


async def test_a_cohort_has_one_channel_per_platform_replaced_when_set_again(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = await add_cohort(uow, "a")
        other = await add_cohort(uow, "b")
        await uow.cohorts.set_channel(cohort, "slack", "C-old")
        await uow.cohorts.set_channel(cohort, "teams", "19:abc")
        await uow.cohorts.set_channel(other, "slack", "C-other")
    async with unit_of_work(sessions) as uow:
        await uow.cohorts.set_channel(cohort, "slack", "C-new")

    async with unit_of_work(sessions) as uow:
        channels = await uow.cohorts.channels(cohort.id)
        by_new = await uow.cohorts.by_channel("slack", "C-new")
        assert await uow.cohorts.by_channel("slack", "C-old") is None
        assert await uow.cohorts.by_channel("teams", "C-new") is None

    assert channels == {"slack": "C-new", "teams": "19:abc"}
    assert by_new is not None
    assert by_new.id == cohort.id


async def test_a_role_given_twice_is_held_once(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        (alex,) = await add_people(uow, "Alex")
        given = await uow.cohorts.add_member(
            cohort_id=cohort, person_id=alex, role=Role.PARTICIPANT, now=NOW
        )
    async with unit_of_work(sessions) as uow:
        again = await uow.cohorts.add_member(
            cohort_id=cohort, person_id=alex, role=Role.PARTICIPANT, now=NOW
        )
        another_role = await uow.cohorts.add_member(
            cohort_id=cohort, person_id=alex, role=Role.MENTOR, now=NOW
        )
        roles = await uow.cohorts.roles(cohort_id=cohort, person_id=alex)
        members = await uow.cohorts.members(cohort)

    assert (given, again, another_role) == (True, False, True)
    assert roles == {Role.PARTICIPANT, Role.MENTOR}
    assert len(members) == 2


async def test_cohorts_of_a_person_group_their_roles_by_cohort_in_key_order(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        b, a = await add_cohort(uow, "b"), await add_cohort(uow, "a")
        await add_cohort(uow, "c")
        alex, sam = await add_people(uow, "Alex", "Sam")
        for cohort, person, role in (
            (b, alex, Role.FACILITATOR),
            (a, alex, Role.PARTICIPANT),
            (b, alex, Role.MODERATOR),
            (b, sam, Role.PARTICIPANT),
        ):
            await uow.cohorts.add_member(cohort_id=cohort.id, person_id=person, role=role, now=NOW)

    async with unit_of_work(sessions) as uow:
        found = await uow.cohorts.cohorts_of(alex)
        assert await uow.cohorts.roles(cohort_id=a.id, person_id=sam) == set()

    assert [(cohort.key, roles) for cohort, roles in found] == [
        ("a", {Role.PARTICIPANT}),
        ("b", {Role.FACILITATOR, Role.MODERATOR}),
    ]


async def test_members_are_listed_by_role_then_name(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        cohort = (await add_cohort(uow)).id
        other = (await add_cohort(uow, "other")).id
        zoe, alex, fran, kim = await add_people(uow, "Zoe", "Alex", "Fran", "Kim")
        for person, role in (
            (zoe, Role.PARTICIPANT),
            (fran, Role.FACILITATOR),
            (alex, Role.PARTICIPANT),
        ):
            await uow.cohorts.add_member(cohort_id=cohort, person_id=person, role=role, now=NOW)
        await uow.cohorts.add_member(cohort_id=other, person_id=kim, role=Role.PARTICIPANT, now=NOW)

    async with unit_of_work(sessions) as uow:
        members = await uow.cohorts.members(cohort)

    assert [(person.display_name, role) for person, role in members] == [
        ("Fran", Role.FACILITATOR),
        ("Alex", Role.PARTICIPANT),
        ("Zoe", Role.PARTICIPANT),
    ]


async def test_roles_by_user_keys_every_role_by_platform_user_in_one_workspace(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        a, b = (await add_cohort(uow, "a")).id, (await add_cohort(uow, "b")).id
        alex = await uow.people.ensure(IdentityFacts("slack", "T1", "U-alex"), now=NOW)
        sam = await uow.people.ensure(IdentityFacts("slack", "T1", "U-sam"), now=NOW)
        await uow.people.ensure(IdentityFacts("slack", "T1", "U-nobody"), now=NOW)
        elsewhere = await uow.people.ensure(IdentityFacts("slack", "T2", "U-kim"), now=NOW)
        teams = await uow.people.ensure(IdentityFacts("teams", "T1", "U-lee"), now=NOW)
        for cohort, person, role in (
            (a, alex.id, Role.PARTICIPANT),
            (b, alex.id, Role.FACILITATOR),
            (a, sam.id, Role.MODERATOR),
            (a, elsewhere.id, Role.PARTICIPANT),
            (a, teams.id, Role.PARTICIPANT),
        ):
            await uow.cohorts.add_member(cohort_id=cohort, person_id=person, role=role, now=NOW)

    async with unit_of_work(sessions) as uow:
        roles = await uow.cohorts.roles_by_user("slack", "T1")

    assert roles == {
        "U-alex": {Role.PARTICIPANT, Role.FACILITATOR},
        "U-sam": {Role.MODERATOR},
    }
