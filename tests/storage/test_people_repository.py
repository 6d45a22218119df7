"""The people repository: one person per platform user, found by identity, email or handle."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import SessionFactory
from storage.models import Identity
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, wait_until_blocked

ALEX = IdentityFacts(
    platform="slack",
    workspace="T1",
    user_id="U-alex",
    display_name="Alex Morgan",
    time_zone="Europe/Berlin",
    email="Alex@Example.com",
)


async def test_a_workspace_is_created_once_per_platform_and_tenant(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        first = await uow.people.workspace("slack", "T1")
    async with unit_of_work(sessions) as uow:
        again = await uow.people.workspace("slack", "T1")
        teams = await uow.people.workspace("teams", "T1")
        other = await uow.people.workspace("slack", "T2")

    assert again.id == first.id
    assert len({first.id, teams.id, other.id}) == 3
    assert (teams.platform, teams.tenant_id) == ("teams", "T1")


async def test_ensure_creates_a_person_once_and_refreshes_what_the_platform_says(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        created = await uow.people.ensure(ALEX, now=NOW)
    async with unit_of_work(sessions) as uow:
        same = await uow.people.ensure(
            IdentityFacts("slack", "T1", "U-alex", display_name="Alex M.", time_zone="Asia/Tokyo"),
            now=NOW + timedelta(days=1),
        )
        bare = await uow.people.ensure(IdentityFacts("slack", "T1", "U-alex"), now=NOW)
        other = await uow.people.ensure(IdentityFacts("slack", "T1", "U-sam"), now=NOW)
        found = await uow.people.find_identity("slack", "T1", "U-alex")
        assert await uow.people.find_identity("slack", "T2", "U-alex") is None
        identities = await uow.people.identities(created.id)

    assert same.id == bare.id == created.id
    assert (created.email, created.created_at) == ("alex@example.com", NOW)
    assert (same.display_name, same.time_zone) == ("Alex M.", "Europe/Berlin"), (
        "the person keeps the zone they have; the identity records the platform's"
    )
    assert (other.display_name, other.time_zone) == ("U-sam", "UTC"), "named by id at first"
    assert found is not None
    identity, person = found
    assert person.id == created.id
    assert (identity.display_name, identity.time_zone) == ("Alex M.", "Asia/Tokyo")
    assert [(i.platform_user_id, w.tenant_id) for i, w in identities] == [("U-alex", "T1")]


async def test_an_identity_named_before_its_workspace_was_known_is_adopted(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        from_config = await uow.people.ensure(IdentityFacts("slack", "", "U-alex"), now=NOW)
    async with unit_of_work(sessions) as uow:
        first_event = await uow.people.ensure(ALEX, now=NOW)
        identities = await uow.people.identities(from_config.id)

    assert first_event.id == from_config.id
    assert [(i.platform_user_id, w.tenant_id) for i, w in identities] == [("U-alex", "T1")]
    assert first_event.display_name == "Alex Morgan"


async def test_a_blocked_identity_is_unreachable_until_the_person_talks_again(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex = await uow.people.ensure(ALEX, now=NOW)
        same_id_elsewhere = await uow.people.ensure(IdentityFacts("slack", "T2", "U-alex"), now=NOW)
        await uow.people.mark_unreachable(platform="slack", workspace="T1", user_id="U-alex")
        await uow.people.remember_conversation(
            platform="slack", workspace="T9", user_id="U-nobody", reference={"channel": "D0"}
        )
    async with unit_of_work(sessions) as uow:
        blocked = [i.reachable for i, _ in await uow.people.identities(alex.id)]
        untouched = [i.reachable for i, _ in await uow.people.identities(same_id_elsewhere.id)]
        await uow.people.remember_conversation(
            platform="slack", workspace="T1", user_id="U-alex", reference={"channel": "D1"}
        )
    async with unit_of_work(sessions) as uow:
        (identity, _workspace), *_ = await uow.people.identities(alex.id)

    assert blocked == [False]
    assert untouched == [True], "only the identity in that workspace"
    assert (identity.reachable, identity.conversation_ref) == (True, {"channel": "D1"})


async def test_identities_of_many_people_are_read_together_each_in_order(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex = await uow.people.ensure(ALEX, now=NOW)
        sam = await uow.people.ensure(IdentityFacts("teams", "tenant", "29:sam"), now=NOW)
        kim = await uow.people.ensure(IdentityFacts("slack", "T1", "U-kim"), now=NOW)
        teams = await uow.people.workspace("teams", "tenant")
        uow.session.add(Identity(person_id=alex.id, workspace_id=teams.id, platform_user_id="29:a"))

    async with unit_of_work(sessions) as uow:
        found = await uow.people.identities_of([alex.id, sam.id, kim.id + sam.id + alex.id])
        assert await uow.people.identities_of([]) == {}
        one_by_one = await uow.people.identities(alex.id)

    assert sorted(found) == sorted([alex.id, sam.id]), "nobody without an identity"
    assert [(i.platform_user_id, w.platform) for i, w in found[alex.id]] == [
        ("U-alex", "slack"),
        ("29:a", "teams"),
    ]
    assert [i.id for i, _ in found[alex.id]] == [i.id for i, _ in one_by_one]
    assert [i.platform_user_id for i, _ in found[sam.id]] == ["29:sam"]


async def test_people_are_found_by_ids_email_and_platform_handle(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        alex = await uow.people.ensure(ALEX, now=NOW)
        sam = await uow.people.ensure(
            IdentityFacts("teams", "tenant", "29:sam", email="sam@example.com"), now=NOW
        )
        later_alex = await uow.people.ensure(
            IdentityFacts("teams", "tenant", "29:alex", email="alex@example.com"), now=NOW
        )

    async with unit_of_work(sessions) as uow:
        by_ids = await uow.people.by_ids([sam.id, alex.id, sam.id + alex.id + later_alex.id])
        assert await uow.people.by_ids([]) == {}
        by_email = await uow.people.by_email("ALEX@example.com")
        assert await uow.people.by_email("nobody@example.com") is None
        by_handle = await uow.people.by_handle("teams", "29:sam")
        assert await uow.people.by_handle("slack", "29:sam") is None
        got = await uow.people.get(alex.id)

    assert sorted(by_ids) == sorted([sam.id, alex.id])
    assert by_ids[sam.id].email == "sam@example.com"
    assert by_email is not None
    assert by_email.id == alex.id, "the first person with that email"
    assert by_handle is not None
    assert by_handle.id == sam.id
    assert got is not None
    assert got.display_name == "Alex Morgan"


async def test_two_first_events_from_a_new_workspace_create_it_once(
    pg_sessions: SessionFactory,
) -> None:
    async def second_event() -> int:
        async with unit_of_work(pg_sessions) as second:
            return (await second.people.workspace("slack", "T-new")).id

    async with unit_of_work(pg_sessions) as first:
        created = (await first.people.workspace("slack", "T-new")).id
        racing = asyncio.create_task(second_event())
        await wait_until_blocked(first)

    assert await racing == created
