"""Facilitated sessions in the playground: the agenda on timers, attendance, pause and resume."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Attendance, Commitment, OutboxMessage
from tests.flows.session.session_helpers import (
    activity,
    agenda,
    command,
    here,
    join,
    last_reply,
    person_id,
    rows,
    sessions,
    start,
)
from tests.harness import CHANNEL, START, Playground, demo_config, running_bot


async def accept_notes(playground: Playground, person: str) -> None:
    """The person says yes to the latest request to take a session's notes."""
    request = next(
        m
        for m in reversed(await playground.from_bot(person, where="dm"))
        if m["message"]["text"].startswith("Would you take the notes")
    )
    await playground.click(person, request, "Yes, I'll take notes")


async def test_a_facilitator_starts_a_session_and_the_agenda_is_posted(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground)

        (message,) = await agenda(playground)
        text = message["message"]["text"]
        assert text.startswith("Session 1 · Pilot cohort A: Now: welcome.")
        assert "▶ *welcome* (2 min left)" in text
        assert "○ micro-teach (10 min)" in text
        fields = next(b for b in message["message"]["blocks"] if b["type"] == "fields")
        assert fields["items"] == [
            ["Facilitator", "Dana Fischer"],
            ["Note-taker", "Alex Schneider (asked)"],
            ["Here", "0"],
        ]
        assert (await last_reply(playground, "dana")).startswith(
            "Session 1 of Pilot cohort A started"
        )
        (session,) = await sessions(playground)
        assert (session.number, session.status, session.item) == (1, "running", 0)
        assert session.facilitator_id == await person_id(playground, "dana")
        assert session.note_taker_id is None, "Alex is asked, not named"
        assert any(
            t.startswith("Would you take the notes for session 1")
            for t in await playground.dm_texts("alex")
        )
        assert len(await activity(playground, "session.started")) == 1


async def test_the_facilitator_can_name_the_note_taker(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground, extra="--note-taker <@priya>")
        await accept_notes(playground, "priya")

        (session,) = await sessions(playground)
        assert session.note_taker_id == await person_id(playground, "priya")


async def test_a_participant_cannot_start_a_session(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex")
        await start(playground, person="alex")

        assert (await last_reply(playground, "alex")).startswith(
            "Only a facilitator or a program owner of Pilot cohort A can start a session."
        )
        assert await sessions(playground) == []
        assert await agenda(playground) == []


async def test_only_one_session_runs_at_a_time(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await start(playground)
        await start(playground, person="olivia")

        assert (await last_reply(playground, "olivia")).startswith(
            "Session 1 of Pilot cohort A is already running."
        )
        assert len(await sessions(playground)) == 1


async def test_steering_without_a_running_session_says_so(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, "next")

        assert (await last_reply(playground, "dana")).startswith(
            "No session of Pilot cohort A is running."
        )


async def test_timers_move_through_the_agenda_updating_one_live_message(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await start(playground)
        await playground.advance(timedelta(minutes=1))
        (message,) = await agenda(playground)
        assert "▶ *welcome* (2 min left)" in message["message"]["text"]

        await playground.advance(timedelta(minutes=1))
        (message,) = await agenda(playground)
        # A tick marks a done item: strike markup (`~x~`) is Slack's only and shows as
        # written on Teams and in the playground.
        assert "✓ welcome (2 min)" in message["message"]["text"]
        assert "~" not in str(message["message"])
        assert "▶ *micro-teach* (10 min left)" in message["message"]["text"]
        assert (await sessions(playground))[0].item == 1

        await playground.advance(timedelta(minutes=10 + 20 + 10 + 5))
        (message,) = await agenda(playground)
        assert "Ended. 0 attended." in message["message"]["text"]
        assert not any(b["type"] == "buttons" for b in message["message"]["blocks"])
        (session,) = await sessions(playground)
        assert (session.status, session.ended_at) == ("ended", playground.clock.now())
        outbox = [m for m in await rows(playground, OutboxMessage) if m.ref_key or m.update_of_key]
        originals = [m for m in outbox if m.update_of_key is None]
        updates = [m for m in outbox if m.update_of_key == originals[0].ref_key]
        assert len(originals) == 1
        assert len(updates) == 5, "one update per item change and one at the end"


async def test_next_skips_ahead_and_end_closes(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await start(playground)
        await command(playground, "next")
        await command(playground, "next")

        assert (await sessions(playground))[0].item == 2
        (message,) = await agenda(playground)
        assert "▶ *practice in pairs* (20 min left)" in message["message"]["text"]

        await command(playground, "end")
        (session,) = await sessions(playground)
        assert session.status == "ended"
        assert (await last_reply(playground, "dana")).startswith("Session 1 ended.")
        await playground.advance(timedelta(hours=1))
        assert (await sessions(playground))[0].item == 2, "no timer runs after the end"


async def test_pause_keeps_the_time_left_and_resume_continues_it(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await start(playground)
        await playground.advance(timedelta(minutes=5))  # micro-teach began 3 minutes ago
        await command(playground, "pause")

        assert (await last_reply(playground, "dana")) == (
            "Paused with 7 min left. `/cohort session resume` continues."
        )
        await playground.advance(timedelta(minutes=30))
        (message,) = await agenda(playground)
        assert "▶ *micro-teach* (paused, 7 min left)" in message["message"]["text"]
        assert (await sessions(playground))[0].item == 1

        await command(playground, "resume")
        await playground.advance(timedelta(minutes=6, seconds=59))
        assert (await sessions(playground))[0].item == 1
        await playground.advance(timedelta(seconds=1))
        assert (await sessions(playground))[0].item == 2


async def test_im_here_records_attendance_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex")
        await start(playground)
        await here(playground, "alex")
        await here(playground, "alex")

        assert [a.person_id for a in await rows(playground, Attendance)] == [
            await person_id(playground, "alex")
        ]
        assert await last_reply(playground, "alex") == "You're already marked as here."
        (message,) = await agenda(playground)
        fields = next(b for b in message["message"]["blocks"] if b["type"] == "fields")
        assert fields["items"][2] == ["Here", "1"]
        assert len(await activity(playground, "session.attended")) == 1


async def test_the_note_taker_rotates_among_those_who_attended(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await start(playground)
        await accept_notes(playground, "alex")
        await here(playground, "alex", "priya")
        await command(playground, "end")
        await start(playground)
        await accept_notes(playground, "priya")

        first, second = await sessions(playground)
        assert first.note_taker_id == await person_id(playground, "alex")
        assert second.note_taker_id == await person_id(playground, "priya"), (
            "Priya attended and has had no turn; Jordan never came"
        )


async def test_a_restarted_bot_continues_the_running_session(sqlite_url: str) -> None:
    config = demo_config(sqlite_url)
    async with running_bot(config) as playground:
        clock = playground.clock
        await start(playground)
        await playground.advance(timedelta(minutes=1))

    clock.advance(timedelta(minutes=1))
    async with running_bot(config, clock=clock) as playground:
        await playground.bot.settle()

        (session,) = await sessions(playground)
        assert session.item == 1
        updates = [m for m in await rows(playground, OutboxMessage) if m.update_of_key]
        assert len(updates) == 1
        assert "▶ *micro-teach* (10 min left)" in updates[0].message["text"]
        await playground.advance(timedelta(minutes=10))
        assert (await sessions(playground))[0].item == 2


async def test_help_explains_the_session_command(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("dana", "/cohort help session", channel=CHANNEL)

        text = await last_reply(playground, "dana")
        assert "/cohort session start|next|pause|resume|end [cohort]" in text
        assert "`pause` freezes the clock" in text


async def test_an_unknown_session_command_gets_a_clear_answer(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, "stop")

        assert (await last_reply(playground, "dana")).startswith(
            "Unknown session command 'stop'. Use one of: start, next, pause, resume, end."
        )
        assert await sessions(playground) == []


async def test_a_complete_timed_session(database_url: str) -> None:
    """Join, start, attend, practise, commit, end on the timer and rate: all in the log."""
    async with running_bot(demo_config(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await start(playground)
        await here(playground, "alex", "priya", "jordan")
        await playground.advance(timedelta(minutes=2 + 10))
        assert "You play role A." in (await playground.dm_texts("alex"))[-1]
        await playground.advance(timedelta(minutes=20 + 10))
        for person in ("alex", "priya", "jordan"):
            assert (await playground.dm_texts(person))[-1].startswith("Commitments:")
            for answer in (f"{person}'s next step", "default", "none"):
                await playground.say(person, answer)
        await playground.advance(timedelta(minutes=5))
        for person, stars in (("alex", "5"), ("priya", "4"), ("jordan", "4")):
            question = await playground.last_dm(person)
            rating = next(b for b in question["message"]["blocks"] if b["type"] == "rating")
            await playground.post(
                "action",
                {
                    "person": person,
                    "message_id": question["id"],
                    "action_id": rating["action_id"],
                    "value": stars,
                },
            )
            await playground.bot.settle()

        (session,) = await sessions(playground)
        assert session.status == "ended"
        assert session.ended_at == START + timedelta(minutes=47)
        counts = {
            verb: len(await activity(playground, verb))
            for verb in (
                "session.started",
                "session.attended",
                "session.practice",
                "commitment.made",
                "session.ended",
                "session.rated",
            )
        }
        assert counts == {
            "session.started": 1,
            "session.attended": 3,
            "session.practice": 1,
            "commitment.made": 3,
            "session.ended": 1,
            "session.rated": 3,
        }
        ratings = sorted(a.data["rating"] for a in await activity(playground, "session.rated"))
        assert ratings == [4, 4, 5]
        assert len(await rows(playground, Commitment)) == 3
