"""The note-taker is asked, not told: they accept or decline, and a decline has a fallback."""

from __future__ import annotations

from typing import Any

from tests.flows.session.session_helpers import (
    activity,
    agenda,
    join,
    person_id,
    sessions,
    start,
)
from tests.harness import Playground, demo_config, running_bot

QUESTION = "Would you take the notes for session 1 of Pilot cohort A?"


async def request(playground: Playground, person: str) -> dict[str, Any]:
    return next(
        m
        for m in reversed(await playground.from_bot(person, where="dm"))
        if m["message"]["text"].startswith(QUESTION)
    )


async def note_taker_shown(playground: Playground) -> str:
    (message,) = await agenda(playground)
    fields = next(b for b in message["message"]["blocks"] if b["type"] == "fields")
    return str(dict(fields["items"])["Note-taker"])


async def dm_replies(playground: Playground, person: str) -> list[str]:
    return [
        m["message"]["text"]
        for m in await playground.from_bot(person)
        if m["ephemeral"] or m["where"] == "dm"
    ]


async def test_the_note_taker_is_asked_and_named_once_they_accept(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground)

        (session,) = await sessions(playground)
        assert session.note_taker_id is None, "nobody is note-taker without saying yes"
        assert await note_taker_shown(playground) == "Alex Schneider (asked)"

        await playground.click("alex", await request(playground, "alex"), "Yes, I'll take notes")

        (session,) = await sessions(playground)
        assert session.note_taker_id == await person_id(playground, "alex")
        assert await note_taker_shown(playground) == "Alex Schneider"
        assert (
            "Thanks! You're the note-taker for session 1"
            in (await dm_replies(playground, "alex"))[-1]
        )
        assert len(await activity(playground, "session.note_taker_accepted")) == 1


async def test_a_decline_asks_the_next_in_turn_and_then_leaves_the_notes_to_the_facilitator(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await start(playground)

        await playground.click("alex", await request(playground, "alex"), "Not this time")
        assert await note_taker_shown(playground) == "Priya Raman (asked)"
        assert (await playground.dm_texts("dana"))[-1] == (
            "Alex Schneider can't take the notes for session 1 of Pilot cohort A; "
            "I've asked Priya Raman."
        )
        await playground.click("alex", await request(playground, "alex"), "Yes, I'll take notes")
        assert (await dm_replies(playground, "alex"))[-1] == (
            "I've asked Priya Raman to take the notes instead; thanks all the same."
        )

        await playground.click("priya", await request(playground, "priya"), "Not this time")
        assert await note_taker_shown(playground) == "not named"
        assert (await playground.dm_texts("dana"))[-1] == (
            "Priya Raman can't take the notes for session 1 of Pilot cohort A, and nobody "
            "else is left to ask: please take them yourself or find a volunteer in the channel."
        )
        (session,) = await sessions(playground)
        assert session.note_taker_id is None
        assert len(await activity(playground, "session.note_taker_declined")) == 2
