"""The session calendar (.ics) and the kickoff post at the program's session time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar

from bot.runtime.clock import ManualClock
from flows.session.calendar import session_days
from storage.models import Cohort
from tests.flows.session.session_helpers import (
    command,
    join,
    last_reply,
    person_id,
    session_config,
    sessions,
    start,
)
from tests.harness import START, Playground, demo_config, running_bot

KICKOFF_BERLIN_WED = START + timedelta(days=2, hours=6)
"""Wednesday 25 November 2026, 15:00 in Berlin (14:00 UTC)."""


MARCH_KICKOFF = {
    "start_date: null": "start_date: 2027-03-01",
    "      - 2026-12-24\n": "      - 2026-12-24\n      - 2027-03-24\n",
}
"""The demo cohort starting on 1 March 2027, with a holiday on Wednesday 24 March."""


async def fetch_calendar(playground: Playground, key: str = "pilot-a") -> tuple[int, str, bytes]:
    response = await playground.http.get(f"/cohorts/{key}/sessions.ics")
    return response.status, response.headers.get("Content-Type", ""), await response.read()


async def test_calendar_has_local_times_across_dst_and_skips_holidays(sqlite_url: str) -> None:
    config = session_config(sqlite_url, **MARCH_KICKOFF)
    async with running_bot(config) as playground:
        status, content_type, body = await fetch_calendar(playground)
        again = (await fetch_calendar(playground))[2]

    assert status == 200
    assert content_type.startswith("text/calendar")
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    starts = [event["DTSTART"].dt for event in events]
    assert [s.date() for s in starts] == [
        date(2027, 3, 3),
        date(2027, 3, 10),
        date(2027, 3, 17),
        date(2027, 3, 31),  # 24 March is a holiday
        date(2027, 4, 7),
        date(2027, 4, 14),
        date(2027, 4, 21),
    ]
    assert all((s.hour, s.minute) == (15, 0) for s in starts)
    # Berlin moves to summer time on 28 March: the same wall-clock time is an hour earlier in UTC.
    assert starts[2].astimezone(UTC) == datetime(2027, 3, 17, 14, 0, tzinfo=UTC)
    assert starts[3].astimezone(UTC) == datetime(2027, 3, 31, 13, 0, tzinfo=UTC)
    assert events[0]["DTEND"].dt - starts[0] == timedelta(minutes=50)
    assert b"DTSTART;TZID=Europe/Berlin:20270331T150000" in body
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    assert str(events[0]["UID"]) == "pilot-a-session-2027-03-03@cohortbot"
    assert [e["UID"] for e in Calendar.from_ical(again).walk("VEVENT")] == [
        e["UID"] for e in events
    ], "UIDs are stable, so re-importing updates instead of doubling"
    assert str(events[0]["SUMMARY"]) == "Pilot cohort A: session 1"


async def test_calendar_of_an_unknown_cohort_is_not_found(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        status, _type, _body = await fetch_calendar(playground, "nope")
    assert status == 404


def test_biweekly_sessions_fall_every_other_week() -> None:
    config = demo_config("sqlite+aiosqlite:///unused.db")
    program = config.programs["pilot"]
    biweekly = program.model_copy(
        update={"cadence": program.cadence.model_copy(update={"every_weeks": 2})}
    )
    cohort = Cohort(key="k", name="K", program="pilot", start_date=date(2027, 3, 1))
    assert session_days(cohort, biweekly) == [
        date(2027, 3, 3),
        date(2027, 3, 17),
        date(2027, 3, 31),
        date(2027, 4, 14),
    ]


async def test_kickoff_is_posted_at_the_session_time_with_the_calendar_link(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.advance(KICKOFF_BERLIN_WED - START - timedelta(minutes=1))
        assert await kickoffs(playground) == []

        await playground.advance(timedelta(minutes=1))
        (post,) = await kickoffs(playground)
        assert post.startswith("*Session 1 of Pilot cohort A starts now* (50 min).")
        assert "The facilitator starts it with `/cohort session start`." in post
        assert post.endswith(
            "All sessions for your calendar: http://127.0.0.1:3978/cohorts/pilot-a/sessions.ics"
        )
        assert await sessions(playground) == [], "starting stays manual by default"


async def test_no_kickoff_on_a_holiday(sqlite_url: str) -> None:
    config = session_config(
        sqlite_url, **{"      - 2026-12-24\n": "      - 2026-11-25\n      - 2026-12-24\n"}
    )
    async with running_bot(config) as playground:
        await playground.advance(KICKOFF_BERLIN_WED - START + timedelta(minutes=5))
        assert await kickoffs(playground) == []
        await playground.advance(timedelta(days=7))
        assert len(await kickoffs(playground)) == 1


async def test_rotating_facilitator_is_named_and_the_session_starts_by_itself(
    sqlite_url: str,
) -> None:
    config = session_config(
        sqlite_url,
        **{
            "rotate_facilitator: false": "rotate_facilitator: true",
            "auto_start: false": "auto_start: true",
        },
    )
    async with running_bot(config, clock=ManualClock(START)) as playground:
        await join(playground, "priya", "alex")
        await playground.advance(KICKOFF_BERLIN_WED - START)

        (post,) = await kickoffs(playground)
        assert "Today's facilitator: Alex Schneider." in post
        (session,) = await sessions(playground)
        assert session.facilitator_id == await person_id(playground, "alex")
        await command(playground, "next", person="alex")
        assert (await sessions(playground))[0].item == 1
        await command(playground, "next", person="priya")
        assert (await last_reply(playground, "priya")).startswith(
            "Only the session's facilitator or a program owner"
        )


async def test_the_named_facilitator_may_start_and_others_may_not(sqlite_url: str) -> None:
    config = session_config(sqlite_url, **{"rotate_facilitator: false": "rotate_facilitator: true"})
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")
        await start(playground, person="priya")
        assert await sessions(playground) == []
        await start(playground, person="alex")
        (session,) = await sessions(playground)
        assert session.facilitator_id == await person_id(playground, "alex")


async def kickoffs(playground: Playground) -> list[str]:
    return [
        m["message"]["text"]
        for m in await playground.from_bot("dana", where="channel")
        if m["message"]["text"].startswith("*Session")
    ]
