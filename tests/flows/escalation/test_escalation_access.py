"""Who may raise and handle escalations where: membership first, numbers that can't be probed."""

from __future__ import annotations

from bot.model.events import ActionInvoked, Actor
from storage.uow import unit_of_work
from tests.flows.escalation.escalation_helpers import audit, escalations, pings
from tests.harness import Playground, running_bot, two_cohorts_config

NOT_STAFF = "Only the cohort's moderators, facilitators and owners can handle escalations."


async def help_in_pilot_b(playground: Playground) -> int:
    """Tom, of pilot-b only, asks for help there; the escalation's number."""
    await playground.say("tom", "/cohort join pilot-b")
    await playground.say("tom", "/cohort help-me the rubric link is broken")
    (row,) = await escalations(playground)
    return row.id


async def click_ack(playground: Playground, person: str, value: str) -> None:
    """`person` presses Acknowledge on a ping that names escalation `value`."""
    await playground.bot.accept(
        ActionInvoked(
            event_id=f"{person}-acks-{value}",
            actor=Actor(platform="local", workspace="local", user_id=person),
            is_direct=True,
            action_id="escalation.ack",
            value=value,
        )
    )
    await playground.bot.settle()


def numberless(text: str, number: int) -> str:
    return text.replace(f"#{number} ", "#N ")


async def test_help_me_for_a_cohort_the_person_is_not_in_is_refused_and_raises_nothing(
    database_url: str,
) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort help-me please look at this --cohort pilot-b")
        await playground.say("alex", "/cohort help-me please look at this --cohort nowhere")

        texts = await playground.dm_texts("alex")
        assert texts[-2] == (
            "You can ask for help only in a cohort you are in, and you are not in 'pilot-b'. "
            "Yours: pilot-a."
        )
        assert texts[-1] == texts[-2].replace("'pilot-b'", "'nowhere'")
        assert await escalations(playground) == []
        assert await pings(playground, "dana") == []


async def test_help_me_in_another_cohorts_channel_goes_to_the_persons_own_cohort(
    database_url: str,
) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort help-me I am lost", channel="cohort-pilot-b")

        (row,) = await escalations(playground)
        assert row.cohort_id is not None
        async with unit_of_work(playground.bot.sessions) as uow:
            cohort = await uow.cohorts.get(row.cohort_id)
        assert cohort is not None
        assert cohort.key == "pilot-a"


async def test_help_me_in_ones_own_cohort_still_raises_it_there(database_url: str) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        await playground.say("tom", "/cohort join pilot-b")
        await playground.say("tom", "/cohort help-me I am lost --cohort PILOT-B")

        (row,) = await escalations(playground)
        assert (
            "I've told the moderators of Pilot cohort B" in (await playground.dm_texts("tom"))[-1]
        )
        assert row.reporter_id is not None


async def test_another_cohorts_escalation_answers_like_a_number_never_used(
    database_url: str,
) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        number = await help_in_pilot_b(playground)
        # Sam moderates pilot-a only: pilot-b's escalation is not his to see.
        await playground.say("sam", f"/cohort escalation ack {number}")
        await playground.say("sam", "/cohort escalation ack 9999")
        await playground.say("sam", f"/cohort escalation resolve #{number}")
        await playground.say("sam", "/cohort escalation resolve #9998")

        ack_real, ack_unused, resolve_real, resolve_unused = (await playground.dm_texts("sam"))[-4:]
        assert numberless(ack_real, number) == numberless(ack_unused, 9999)
        assert numberless(resolve_real, number) == numberless(resolve_unused, 9998)
        assert ack_unused == (
            "There is no escalation #9999 that you can handle; "
            "`/cohort escalations` lists the open ones."
        )
        (row,) = await escalations(playground)
        assert row.status == "open"
        assert await audit(playground, row.id) == ["raised", "pinged"]


async def test_another_cohorts_escalation_button_answers_like_a_number_never_used(
    database_url: str,
) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        number = await help_in_pilot_b(playground)
        await click_ack(playground, "sam", str(number))
        await click_ack(playground, "sam", "9999")

        real, unused = (await playground.dm_texts("sam"))[-2:]
        assert numberless(real, number) == numberless(unused, 9999)
        (row,) = await escalations(playground)
        assert (row.status, row.acknowledged_by) == ("open", None)


async def test_a_participant_gets_the_same_refusal_for_any_escalation_number(
    database_url: str,
) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        number = await help_in_pilot_b(playground)
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", f"/cohort escalation ack {number}")
        await playground.say("alex", "/cohort escalation ack 9999")
        await playground.say("alex", "/cohort escalation ack 99999999999999999999999")

        assert (await playground.dm_texts("alex"))[-3:] == [NOT_STAFF] * 3


async def test_a_number_too_large_for_the_database_is_no_escalation(database_url: str) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        await playground.say("sam", "/cohort escalation ack 99999999999999999999999")
        await playground.say("sam", "/cohort escalation ack ²")

        huge, superscript = (await playground.dm_texts("sam"))[-2:]
        assert huge.startswith("There is no escalation #99999999999999999999999 that you can")
        assert superscript == "'²' is not an escalation number; see `/cohort escalations`."


async def test_the_cohorts_own_staff_still_handle_its_escalations(database_url: str) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        number = await help_in_pilot_b(playground)
        # Dana facilitates pilot-b as well as pilot-a.
        await playground.say("dana", f"/cohort escalation ack {number}")

        assert (await playground.dm_texts("dana"))[-1] == f"#{number} is acknowledged."
        (row,) = await escalations(playground)
        assert row.status == "acknowledged"
