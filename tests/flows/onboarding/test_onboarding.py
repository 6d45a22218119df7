"""Onboarding in the playground: the survey, the self-assessment, consent, follow-ups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage.models import Activity
from storage.uow import unit_of_work
from tests.harness import CHANNEL, Playground, demo_config, running_bot


def block_of(message: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(b for b in message["message"]["blocks"] if b["type"] == kind)


async def choose(playground: Playground, person: str, kind: str, value: str) -> None:
    """Answer the last question with its select or rating, as the page does."""
    question = await playground.last_dm(person)
    await playground.post(
        "action",
        {
            "person": person,
            "message_id": question["id"],
            "action_id": block_of(question, kind)["action_id"],
            "value": value,
        },
    )
    await playground.bot.settle()


async def complete_onboarding(playground: Playground, person: str) -> None:
    await playground.say(person, "/cohort join pilot-a")
    await playground.click(person, await playground.last_dm(person), "Yes")
    await playground.say(person, "Product design")
    await choose(playground, person, "select", "presenting,coaching conversations")
    await playground.say(person, "1, 3")  # skills to learn, typed as numbers
    await playground.say(person, "workshops and async")
    await choose(playground, person, "select", "mornings")
    for rating in ("2", "4", "3", "1"):
        await choose(playground, person, "rating", rating)
    await playground.click(person, await playground.last_dm(person), "No, keep it")


async def test_whole_survey_saves_the_profile_and_the_pre_assessment(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")

        assert "you're all set" in (await playground.dm_texts("alex"))[-1]
        async with unit_of_work(playground.bot.sessions) as uow:
            found = await uow.people.find_identity("local", "local", "alex")
            pre = await uow.session.scalar(
                select(Activity).where(Activity.verb == "assessment.pre")
            )
            completed = await uow.activity.count(verb="onboarding.completed")
        assert found is not None
        profile = found[1].profile
        assert profile["area"] == "Product design"
        assert profile["strengths"] == ["presenting", "coaching conversations"]
        assert profile["skills_to_learn"] == ["giving feedback", "facilitation"]
        assert profile["learning_methods"] == ["workshops", "async"]
        assert profile["availability"] == ["mornings"]
        assert profile["manager_consent"] is False
        assert found[1].time_zone == "Europe/Berlin"
        assert pre is not None
        assert pre.data == {
            "giving feedback": 2,
            "presenting": 4,
            "facilitation": 3,
            "coaching conversations": 1,
        }
        assert completed == 1


async def test_a_rating_out_of_range_is_asked_again(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.click("alex", await playground.last_dm("alex"), "Yes")
        for answer in ("Design", "1", "2", "3", "4"):
            await playground.say("alex", answer)
        await playground.say("alex", "7")

        retry = (await playground.dm_texts("alex"))[-1]
        assert retry.startswith("Sorry, a rating is a whole number from 1 to 5")
        assert "giving feedback" in retry


async def test_follow_ups_arrive_on_day_two_and_day_four(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await playground.advance(timedelta(days=1, hours=23))
        assert not any("step 2 of 3" in t for t in await playground.dm_texts("alex"))

        await playground.advance(timedelta(hours=2))
        assert any("step 2 of 3: check-ins" in t for t in await playground.dm_texts("alex"))
        await playground.advance(timedelta(days=2))
        texts = await playground.dm_texts("alex")
        assert any("step 3 of 3: sessions" in t and "micro-teach 10 min" in t for t in texts)


async def test_facilitator_invites_people_who_then_get_onboarding(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("dana", "/cohort invite @priya @tom", channel=CHANNEL)
        await playground.say("dana", "/cohort invite @priya", channel=CHANNEL)

        replies = [m["message"]["text"] for m in await playground.from_bot("dana", where="channel")]
        assert replies[0] == (
            "Invited to Pilot cohort A: <@priya>, <@tom>. Their onboarding has started."
        )
        assert replies[1] == "Already in Pilot cohort A: <@priya>."
        assert (await playground.dm_texts("priya"))[0].startswith("Welcome to Pilot cohort A")
        assert (await playground.dm_texts("tom"))[0].startswith("Welcome to Pilot cohort A")


async def test_participants_cannot_invite(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort invite @priya", channel=CHANNEL)

        reply = (await playground.from_bot("alex", where="channel"))[-1]["message"]["text"]
        assert reply.startswith("Only a facilitator or a program owner")
        assert await playground.dm_texts("priya") == []


async def test_the_check_in_follow_up_names_the_weekday_in_full(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await playground.advance(timedelta(days=2, hours=1))
        step_two = next(t for t in await playground.dm_texts("alex") if "step 2 of 3" in t)
        assert "Every Monday at 09:00 (your time)" in step_two
