"""A Slack person's time zone comes from their Slack profile (users.info), read once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Identity, Person
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, payload
from tests.fakes.slack_api import Scripted

ALEX = "U2147483697"
"""The user of the slash command and DM fixtures."""
DM = {"channel_id": "D2147483697", "channel_name": "directmessage"}


async def _person_and_identity(rig: SlackRig) -> tuple[Person, Identity]:
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        row = (
            await uow.session.execute(
                select(Person, Identity)
                .join(Identity, Identity.person_id == Person.id)
                .where(Identity.platform_user_id == ALEX)
            )
        ).one()
    return row[0], row[1]


def _time_zone_question(rig: SlackRig) -> dict[str, Any]:
    asked = [m for m in rig.slack.called("chat.postMessage") if "time zone" in m["text"]]
    assert asked, "onboarding asked for the time zone"
    return asked[-1]


def _proposed(question: dict[str, Any]) -> str:
    button = question["blocks"][1]["elements"][0]
    return str(button["text"]["text"])


async def test_onboarding_proposes_the_time_zone_of_the_slack_profile(
    slack_rig: SlackRig,
) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", tz="America/Chicago")

    await slack_rig.command("join pilot-a", **DM)
    await slack_rig.playground.bot.settle()

    question = _time_zone_question(slack_rig)
    assert "*America/Chicago*" in question["text"]
    assert _proposed(question) == "Yes, America/Chicago"
    person, identity = await _person_and_identity(slack_rig)
    assert (person.time_zone, identity.time_zone) == ("America/Chicago", "America/Chicago")
    assert [call["user"] for call in slack_rig.slack.called("users.info")] == [ALEX]


async def test_the_profile_is_read_once_per_person_not_on_every_event(
    slack_rig: SlackRig,
) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", name="Alex Doe", tz="Asia/Kolkata")

    await slack_rig.event(payload("event_message_im.json"))
    await slack_rig.playground.bot.settle()
    await slack_rig.command("join pilot-a", **DM)
    await slack_rig.command("help", **DM)
    await slack_rig.event(payload("event_app_mention.json"))
    await slack_rig.playground.bot.settle()

    assert len(slack_rig.slack.called("users.info")) == 1
    person, identity = await _person_and_identity(slack_rig)
    assert (person.time_zone, identity.time_zone) == ("Asia/Kolkata", "Asia/Kolkata")
    assert _proposed(_time_zone_question(slack_rig)) == "Yes, Asia/Kolkata"


async def test_a_dm_from_someone_new_names_them_from_their_profile(slack_rig: SlackRig) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", name="Alex Doe")

    await slack_rig.event(payload("event_message_im.json"))
    await slack_rig.playground.bot.settle()

    person, _identity = await _person_and_identity(slack_rig)
    assert person.display_name == "Alex Doe", "not the bare user id"


async def test_slack_is_answered_before_the_profile_is_read(slack_rig: SlackRig) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", tz="Europe/Lisbon")
    slack_rig.slack.latency = 0.3  # a slow Web API: users.info answers after the ack

    response = await slack_rig.command("join pilot-a", **DM)

    assert response.status == 200
    assert slack_rig.slack.called("users.info") == [], "the acknowledgement did not wait"
    await slack_rig.playground.bot.settle()
    assert _proposed(_time_zone_question(slack_rig)) == "Yes, Europe/Lisbon"


async def test_without_an_answer_from_slack_the_person_starts_in_utc_and_is_still_welcomed(
    slack_rig: SlackRig,
) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", tz="Europe/Lisbon")
    slack_rig.slack.fail_next("users.info", Scripted(status=429, retry_after=30))

    await slack_rig.command("join pilot-a", **DM)
    await slack_rig.playground.bot.settle()

    assert _proposed(_time_zone_question(slack_rig)) == "Yes, UTC"
    person, identity = await _person_and_identity(slack_rig)
    assert (person.time_zone, identity.time_zone) == ("UTC", None)


async def test_a_profile_zone_unknown_to_this_machine_is_not_adopted(
    slack_rig: SlackRig,
) -> None:
    slack_rig.slack.add_user(ALEX, "alex@example.com", tz="Mars/Olympus_Mons")

    await slack_rig.command("join pilot-a", **DM)
    await slack_rig.playground.bot.settle()

    assert _proposed(_time_zone_question(slack_rig)) == "Yes, UTC"
