"""A Teams person's time zone comes from their own activities (`localTimezone`, clientInfo)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Identity, Person
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import TeamsRig, find_action

PERSONAL = "message_personal.json"


def _personal(rig: TeamsRig, user_id: str, text: str, **changes: Any) -> dict[str, Any]:
    """A message from `user_id` in their own chat with the bot."""
    conversation = f"a:personal-{user_id}"
    message = rig.activity(PERSONAL, text=text, **changes)
    message["id"] = f"{message['id']}-{len(rig.fake.calls)}"  # a new activity each time
    message["from"] = {**message["from"], "id": user_id}
    message["conversation"] = {**message["conversation"], "id": conversation}
    return message


async def _rows(rig: TeamsRig, user_id: str) -> tuple[Person, Identity]:
    async with unit_of_work(rig.bot.sessions) as uow:
        row = (
            await uow.session.execute(
                select(Person, Identity)
                .join(Identity, Identity.person_id == Person.id)
                .where(Identity.platform_user_id == user_id)
            )
        ).one()
    return row[0], row[1]


def _proposed(rig: TeamsRig, user_id: str) -> str:
    """The title of the time-zone question's "Yes" button in the person's chat."""
    cards = [
        m.body for m in rig.fake.messages(f"a:personal-{user_id}") if m.body.get("attachments")
    ]
    asking = [card for card in cards if "time zone" in str(card)]
    assert asking, "onboarding asked for the time zone"
    return str(find_action(asking[-1], "Yes")["title"])


async def test_someone_first_seen_joining_the_team_is_offered_the_zone_of_their_first_message(
    teams_rig: TeamsRig,
) -> None:
    added = teams_rig.activity("conversation_update_member_added.json")
    member = added["membersAdded"][0]["id"]
    await teams_rig.send(added)
    person, identity = await _rows(teams_rig, member)
    assert (person.time_zone, identity.time_zone) == ("UTC", None), "Teams said no zone yet"

    await teams_rig.send(
        _personal(teams_rig, member, "cohort join pilot-a", localTimezone="Asia/Tokyo")
    )

    assert _proposed(teams_rig, member) == "Yes, Asia/Tokyo"
    person, identity = await _rows(teams_rig, member)
    assert (person.time_zone, identity.time_zone) == ("Asia/Tokyo", "Asia/Tokyo")


async def test_the_client_info_entity_gives_the_zone_when_local_timezone_is_missing(
    teams_rig: TeamsRig,
) -> None:
    message = _personal(teams_rig, "29:sam", "cohort join pilot-a")
    del message["localTimezone"]
    message["entities"] = [
        {"locale": "pt-BR", "country": "BR", "timezone": "America/Sao_Paulo", "type": "clientInfo"}
    ]

    await teams_rig.send(message)

    assert _proposed(teams_rig, "29:sam") == "Yes, America/Sao_Paulo"
    person, identity = await _rows(teams_rig, "29:sam")
    assert (person.time_zone, identity.time_zone) == ("America/Sao_Paulo", "America/Sao_Paulo")


async def test_a_zone_the_person_chose_is_kept_when_teams_reports_another(
    teams_rig: TeamsRig,
) -> None:
    await teams_rig.send(
        _personal(teams_rig, "29:kim", "cohort join pilot-a", localTimezone="Europe/Berlin")
    )
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        # What finishing onboarding with a typed "Asia/Kolkata" stores.
        person, _identity = await _rows(teams_rig, "29:kim")
        chosen = await uow.people.get(person.id)
        assert chosen is not None
        chosen.time_zone = "Asia/Kolkata"

    # Travelling: Teams now reports New York; the zone they chose stays theirs.
    await teams_rig.send(_personal(teams_rig, "29:kim", "help", localTimezone="America/New_York"))

    person, identity = await _rows(teams_rig, "29:kim")
    assert (person.time_zone, identity.time_zone) == ("Asia/Kolkata", "America/New_York")
