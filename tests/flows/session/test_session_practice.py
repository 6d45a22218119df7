"""Practice, commitments and ratings: what each attendee gets by DM during and after a session."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import Cohort, Commitment, MatchGroup
from storage.uow import unit_of_work
from tests.flows.session.session_helpers import (
    activity,
    command,
    groups_are,
    here,
    join,
    person_id,
    rows,
    start,
)
from tests.harness import Playground, demo_config, running_bot


async def match(playground: Playground, *pairs: tuple[str, str]) -> None:
    """This cycle's pairs, as the matching flow would have stored them."""
    groups = [[await person_id(playground, a), await person_id(playground, b)] for a, b in pairs]
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.session.scalar(select(Cohort).where(Cohort.key == "pilot-a"))
        assert cohort is not None
        for members in groups:
            uow.session.add(
                MatchGroup(
                    cohort_id=cohort.id,
                    cycle=1,
                    mode="pairs",
                    members=members,
                    created_at=playground.clock.now(),
                )
            )


async def to_item(playground: Playground, index: int) -> None:
    for _ in range(index):
        await command(playground, "next")


async def dm_with(playground: Playground, person: str, words: str) -> dict[str, Any]:
    return next(
        m
        for m in reversed(await playground.from_bot(person, where="dm"))
        if words in m["message"]["text"]
    )


async def test_role_play_prompts_reach_each_pair_and_the_unmatched_are_paired(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena", "tom")
        await match(playground, ("alex", "priya"), ("jordan", "emma"))
        await start(playground)
        await here(playground, "alex", "priya", "jordan", "lena")
        await to_item(playground, 2)

        alex = (await playground.dm_texts("alex"))[-1]
        priya = (await playground.dm_texts("priya"))[-1]
        assert alex.startswith("Practice in pairs with Priya Raman. You play role A. You are A:")
        assert priya.startswith(
            "Practice in pairs with Alex Schneider. You play role B. You are B:"
        )
        # Emma is absent, so Jordan practises with Lena, who has no pair this cycle.
        assert (await playground.dm_texts("jordan"))[-1].startswith(
            "Practice in pairs with Lena Vogel. You play role A."
        )
        assert (await playground.dm_texts("lena"))[-1].startswith(
            "Practice in pairs with Jordan Lee. You play role B."
        )
        assert not any("Practice" in t for t in await playground.dm_texts("tom")), "Tom is absent"
        (logged,) = await activity(playground, "session.practice")
        assert groups_are(
            logged.data["groups"],
            [
                [await person_id(playground, "alex"), await person_id(playground, "priya")],
                [await person_id(playground, "jordan"), await person_id(playground, "lena")],
            ],
        )


async def test_commitment_is_recorded_with_the_partner_and_asked_about_next_session(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground)
        await here(playground, "alex", "priya")
        await to_item(playground, 4)

        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Commitments: what is one action you will take"
        )
        await playground.say("alex", "Ask for feedback after my next team meeting")
        due = await playground.last_dm("alex")
        assert due["message"]["text"] == "By when? I suggest Monday 30 November."
        await playground.click("alex", due, "By Mon 30 Nov")
        peer = await playground.last_dm("alex")
        labels = [b["label"] for b in peer["message"]["blocks"][1]["buttons"]]
        assert labels == ["Priya Raman", "No one"], "the practice partner comes first"
        await playground.click("alex", peer, "Priya")

        (commitment,) = await rows(playground, Commitment)
        assert commitment.text == "Ask for feedback after my next team meeting"
        assert commitment.due_on == date(2026, 11, 30)
        assert commitment.peer_id == await person_id(playground, "priya")
        assert commitment.person_id == await person_id(playground, "alex")
        assert commitment.status == "open"
        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Noted: “Ask for feedback after my next team meeting” by Monday 30 November."
        )
        assert any(
            t.startswith("Alex Schneider committed to: “Ask for feedback")
            for t in await playground.dm_texts("priya")
        )
        assert len(await activity(playground, "commitment.made")) == 1

        await command(playground, "end")
        await playground.advance(timedelta(days=2))
        await start(playground)
        question = await dm_with(playground, "alex", "Did you do it?")
        assert "“Ask for feedback after my next team meeting”" in question["message"]["text"]
        await playground.click("alex", question, "Yes, done")
        await playground.click("alex", question, "Yes, done")

        (commitment,) = await rows(playground, Commitment)
        assert (commitment.status, commitment.checked_at) == ("kept", playground.clock.now())
        assert len(await activity(playground, "commitment.kept")) == 1


async def test_a_past_deadline_is_asked_again(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex")
        await start(playground)
        await here(playground, "alex")
        await to_item(playground, 4)
        await playground.say("alex", "Read one chapter on feedback")
        await playground.say("alex", "2026-01-01")

        texts = await playground.dm_texts("alex")
        assert texts[-2] == "01 January 2026 has passed already; pick a later day."
        assert texts[-1].startswith("By when?")
        await playground.say("alex", "10d")
        await playground.say("alex", "none")

        (commitment,) = await rows(playground, Commitment)
        assert (commitment.due_on, commitment.peer_id) == (date(2026, 12, 3), None)


async def test_a_commitment_not_kept_is_logged_as_such(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex")
        await start(playground)
        await here(playground, "alex")
        await to_item(playground, 4)
        for answer in ("Practise my opening", "default", "none"):
            await playground.say("alex", answer)
        await command(playground, "end")
        await start(playground)
        await playground.click(
            "alex", await dm_with(playground, "alex", "Did you do it?"), "Not yet"
        )

        (commitment,) = await rows(playground, Commitment)
        assert commitment.status == "not_kept"
        assert len(await activity(playground, "commitment.not_kept")) == 1
        assert len(await activity(playground, "commitment.kept")) == 0


async def test_attendees_rate_the_session_once_after_it_ends(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground)
        await here(playground, "alex")
        await command(playground, "end")

        question = await playground.last_dm("alex")
        assert question["message"]["text"] == "How useful was today's session of Pilot cohort A?"
        assert not any("How useful" in t for t in await playground.dm_texts("priya"))
        rating = next(b for b in question["message"]["blocks"] if b["type"] == "rating")
        for value in ("9", "4", "2"):
            await playground.post(
                "action",
                {
                    "person": "alex",
                    "message_id": question["id"],
                    "action_id": rating["action_id"],
                    "value": value,
                },
            )
            await playground.bot.settle()

        (rated,) = await activity(playground, "session.rated")
        assert rated.data == {"rating": 4}
        assert rated.person_id == await person_id(playground, "alex")
        replies = [
            m["message"]["text"]
            for m in await playground.from_bot("alex")
            if m["ephemeral"] or m["where"] == "dm"
        ]
        assert "A rating is a whole number from 1 to 5." in replies
        assert replies[-1] == "You've already rated this session. Thanks!"
        assert len(await activity(playground, "session.ended")) == 1


async def practice_dms(playground: Playground, person: str) -> list[str]:
    """The role-play prompts the person received, oldest first."""
    return [t for t in await playground.dm_texts(person) if t.startswith("Practice")]


async def test_someone_who_arrives_during_practice_gets_a_role_play_prompt(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena")
        await start(playground)
        await here(playground, "alex")
        await to_item(playground, 2)
        assert (await practice_dms(playground, "alex"))[-1].startswith(
            "Practice time, but nobody else is here yet"
        )

        await here(playground, "priya")
        assert (await practice_dms(playground, "priya"))[-1].startswith(
            "Practice in pairs with Alex Schneider. You play role B."
        )
        assert (await practice_dms(playground, "alex"))[-1].startswith(
            "Practice in pairs with Priya Raman. You play role A."
        ), "the one practising alone hears that a partner arrived"

        await here(playground, "jordan")
        assert (await practice_dms(playground, "jordan"))[-1].startswith(
            "Practice in pairs with Alex Schneider and Priya Raman. You play role observer."
        )
        logged = await activity(playground, "session.practice")
        ids = [await person_id(playground, h) for h in ("alex", "priya", "jordan")]
        assert groups_are(logged[-1].data["groups"], [ids]), "the commitments step reads these"

        await command(playground, "next")
        await here(playground, "lena")
        assert await practice_dms(playground, "lena") == [], "practice is over when Lena arrives"
