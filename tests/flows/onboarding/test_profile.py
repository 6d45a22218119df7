"""`/cohort profile` in the playground: the answers as they are, and changing one of them."""

from __future__ import annotations

from typing import Any

from storage.models import Person
from storage.uow import unit_of_work
from tests.flows.onboarding.test_onboarding import choose, complete_onboarding
from tests.harness import CHANNEL, Playground, demo_config, running_bot


async def person(playground: Playground, user: str) -> Person:
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", user)
    assert found is not None
    return found[1]


async def pick_in_profile(playground: Playground, user: str, label: str) -> None:
    """Open `/cohort profile` and press one of its buttons."""
    await playground.say(user, "/cohort profile")
    await playground.click(user, await playground.last_dm(user), label)


def button_labels(message: dict[str, Any]) -> list[str]:
    return [
        button["label"]
        for block in message["message"]["blocks"]
        if block["type"] == "buttons"
        for button in block["buttons"]
    ]


async def test_profile_shows_the_current_answers(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await playground.say("alex", "/cohort profile", channel=CHANNEL)

        reply = (await playground.from_bot("alex", where="channel"))[-1]["message"]["text"]
        assert reply == "I've sent you your profile by DM."
        shown = await playground.last_dm("alex")
        text = shown["message"]["text"]
        assert "Time zone: Europe/Berlin" in text
        assert "Area of knowledge: Product design" in text
        assert "Strong in: presenting, coaching conversations" in text
        assert "Wants to learn: giving feedback, facilitation" in text
        assert "Learning methods: workshops, async" in text
        assert "Availability: mornings" in text
        assert "Summary to your manager: no" in text
        assert button_labels(shown) == [
            "Change time zone",
            "Change area of knowledge",
            "Change strong in",
            "Change wants to learn",
            "Change learning methods",
            "Change availability",
            "Change summary to your manager",
            "Leave it as it is",
        ]
        assert "What is your main area of knowledge?" not in text, "nothing is asked yet"


async def test_profile_changes_one_answer_and_keeps_the_others(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        before = await person(playground, "alex")
        await pick_in_profile(playground, "alex", "Change availability")
        assert (await playground.dm_texts("alex"))[-1].startswith(
            "When are you usually free for a 50-minute session?"
        )

        await choose(playground, "alex", "select", "evenings,lunchtime")

        after = await person(playground, "alex")
        assert after.profile == {**before.profile, "availability": ["lunchtime", "evenings"]}
        assert after.time_zone == before.time_zone
        done = (await playground.dm_texts("alex"))[-1]
        assert "Availability: lunchtime, evenings" in done
        assert "Area of knowledge: Product design" in done

        # Typed straight to one answer: only the time zone is asked, and only it changes.
        await playground.say("alex", "/cohort profile time zone")
        await playground.say("alex", "Asia/Tokyo")
        assert (await person(playground, "alex")).time_zone == "Asia/Tokyo"
        assert (await person(playground, "alex")).profile == after.profile
        assert "Time zone: Asia/Tokyo" in (await playground.dm_texts("alex"))[-1]


async def test_profile_consent_then_asks_the_manager(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await pick_in_profile(playground, "alex", "Change summary to your manager")
        await playground.say("alex", "yes")
        await playground.say("alex", "Mo@Example.com")

        profile = (await person(playground, "alex")).profile
        assert profile["manager_consent"] is True
        assert profile["manager"] == {"email": "mo@example.com"}
        assert profile["area"] == "Product design"
        await playground.say("alex", "/cohort profile")
        assert "Change manager" in button_labels(await playground.last_dm("alex"))


async def test_profile_can_be_left_without_changing_anything(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        before = await person(playground, "alex")

        await pick_in_profile(playground, "alex", "Leave it as it is")
        assert (await playground.dm_texts("alex"))[-1].startswith("OK, nothing changed.")

        await playground.say("alex", "/cohort profile")
        await playground.say("alex", "cancel")
        assert (await playground.dm_texts("alex"))[-1].startswith("OK, nothing changed.")

        await pick_in_profile(playground, "alex", "Change area of knowledge")
        await playground.say("alex", "cancel")
        assert (await playground.dm_texts("alex"))[-1].startswith("OK, nothing changed.")

        after = await person(playground, "alex")
        assert (after.profile, after.time_zone) == (before.profile, before.time_zone)
        assert "cancel" not in str(after.profile)
        # Nothing is left open: a later reply is not taken as an answer.
        await playground.say("alex", "Data science")
        assert (await person(playground, "alex")).profile == before.profile


async def test_profile_names_the_answers_when_asked_for_an_unknown_one(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await playground.say("alex", "/cohort profile shoe size", channel=CHANNEL)

        reply = (await playground.from_bot("alex", where="channel"))[-1]["message"]["text"]
        assert reply.startswith("Your profile has no answer 'shoe size'.")
        assert "time_zone, area" in reply
