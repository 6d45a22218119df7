"""Live check-in: the bot calls on each person in turn in a channel thread."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.models import Attendance, CohortSession
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import (
    answers,
    join,
    logged,
    person_id,
    replies,
    rounds,
    shipped,
)
from tests.harness import CHANNEL, Playground, running_bot


async def thread(playground: Playground) -> list[dict[str, Any]]:
    """The live check-in's thread, as the facilitator sees it."""
    return [
        m
        for m in await playground.from_bot("dana", where="channel")
        if m["channel_id"] == CHANNEL and m["thread_ref"] and not m["ephemeral"]
    ]


async def last_turn(playground: Playground) -> dict[str, Any]:
    return [m for m in await thread(playground) if "your turn" in m["message"]["text"]][-1]


async def start_session_with(playground: Playground, *people: str) -> None:
    """`/cohort session start`, then these people press "I'm here" on the agenda."""
    await playground.say("dana", "/cohort session start", channel=CHANNEL)
    for person in people:
        (agenda,) = [
            m
            for m in await playground.from_bot(person, where="channel")
            if not m["ephemeral"] and m["message"]["text"].startswith("Session ")
        ]
        await playground.click(person, agenda, "I'm here")


async def test_live_mode_calls_each_person_in_turn_and_moves_on(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await start_session_with(playground, "alex", "priya", "jordan")
        await playground.say("dana", "/cohort checkin live", channel=CHANNEL)

        intro = [
            m
            for m in await playground.from_bot("dana", where="channel")
            if "Live check-in" in m["message"]["text"]
        ]
        assert "Alex Schneider, Priya Raman, Jordan Lee" in intro[0]["message"]["text"]
        turn = await last_turn(playground)
        assert turn["message"]["text"].startswith("*Alex Schneider*, your turn")
        await playground.click("priya", turn, "Done")
        assert (await replies(playground, "priya"))[
            -1
        ] == "It isn't your turn yet; I'll call on you."
        await playground.click("alex", turn, "Done")
        assert (await last_turn(playground))["message"]["text"].startswith("*Priya Raman*")

        await playground.advance(timedelta(minutes=2, seconds=59))
        assert (await last_turn(playground))["message"]["text"].startswith("*Priya Raman*")
        await playground.advance(timedelta(seconds=1))
        texts = [m["message"]["text"] for m in await thread(playground)]
        assert "Time's up; let's move on." in texts
        assert (await last_turn(playground))["message"]["text"].startswith("*Jordan Lee*")

        await playground.say("dana", "/cohort checkin pause", channel=CHANNEL)
        await playground.advance(timedelta(minutes=10))
        assert (await last_turn(playground))["message"]["text"].startswith("*Jordan Lee*")
        assert texts.count("Time's up; let's move on.") == 1
        await playground.say("dana", "/cohort checkin resume", channel=CHANNEL)
        await playground.say("dana", "/cohort checkin skip", channel=CHANNEL)

        closing = (await thread(playground))[-1]["message"]["text"]
        assert closing == "That's everyone: 1 of 3 shared. Thank you all!"
        (live,) = await rounds(playground, "live")
        rows = await answers(playground, live.id)
        answered = {pid for pid, row in rows.items() if row.answered_at is not None}
        assert answered == {await person_id(playground, "alex")}
        assert len(rows) == 3, "everyone was called on"
        assert len(await logged(playground, "checkin.live_timed_out")) == 1
        assert len(await logged(playground, "checkin.live_skipped")) == 1
        await playground.say("dana", "/cohort checkin skip", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1].startswith("No live check-in is running")


async def test_live_mode_calls_only_those_present_in_the_running_session(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        now = playground.clock.now()
        present = [await person_id(playground, handle) for handle in ("jordan", "alex")]
        async with unit_of_work(playground.bot.sessions) as uow:
            cohort = await uow.cohorts.by_key("pilot-a")
            assert cohort is not None
            session = CohortSession(
                cohort_id=cohort.id,
                number=1,
                status="running",
                item=0,
                item_started_at=now,
                started_at=now,
            )
            uow.session.add(session)
            await uow.session.flush()
            for pid in present:
                uow.session.add(Attendance(session_id=session.id, person_id=pid, at=now))
        await playground.say("dana", "/cohort checkin live", channel=CHANNEL)

        (live,) = await rounds(playground, "live")
        assert sorted(live.order) == sorted(present)
        for _turn in present:
            await playground.advance(timedelta(minutes=3))
        assert (await thread(playground))[-1]["message"][
            "text"
        ] == "That's everyone: 0 of 2 shared. Thank you all!"


async def test_live_mode_without_a_running_session_says_how_to_start_one(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort checkin live", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1] == (
            "No session of Pilot cohort A is running, so nobody is marked present. Start one "
            "with `/cohort session start`; once people press *I'm here*, "
            "`/cohort checkin live` calls on them."
        )
        assert await rounds(playground, "live") == []
        assert await thread(playground) == []


async def test_live_mode_in_a_session_nobody_joined_yet_asks_them_to_press_im_here(
    sqlite_url: str,
) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")
        await start_session_with(playground)
        await playground.say("dana", "/cohort checkin live", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1] == (
            "There is nobody to call on yet: nobody has pressed *I'm here* on the agenda."
        )
        assert await rounds(playground, "live") == []
