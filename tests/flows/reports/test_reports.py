"""`/cohort report` and the weekly owner digest in the playground, on the manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.runtime.clock import ManualClock
from storage.models import Activity, OutboxMessage
from storage.uow import unit_of_work
from tests.bot.web.test_dashboard_access import link_from_dm, token_of
from tests.flows.checkin.checkin_helpers import config_with, join, person_id, replies, submit
from tests.flows.review.review_helpers import request_review, review
from tests.harness import CHANNEL, Playground, running_bot

SCHEDULED = {"start_date: null ": "start_date: 2026-11-23 "}
"""The shipped cohort, starting on the harness's first day (Monday 23 November 2026)."""


def scheduled(database_url: str) -> Any:
    return config_with(database_url, **SCHEDULED)


async def a_week_of_checkins(playground: Playground) -> None:
    """Alex and Priya join; Alex answers the round, Priya lets it close unanswered."""
    await join(playground, "alex", "priya")
    await playground.say("dana", "/cohort checkin", channel=CHANNEL)
    await submit(playground, "alex", "Gave feedback", "Presenting")
    await playground.advance(timedelta(hours=48))


def card(message: dict[str, Any]) -> dict[str, str]:
    """The KPI fields of a report card: label -> value."""
    for block in message["message"]["blocks"]:
        if block["type"] == "fields":
            return dict(block["items"])
    raise AssertionError("the report has no KPI fields")


async def test_a_facilitator_sees_colour_coded_kpis_and_a_participant_is_refused(
    database_url: str,
) -> None:
    async with running_bot(scheduled(database_url)) as playground:
        await a_week_of_checkins(playground)
        await playground.say("dana", "/cohort report", channel=CHANNEL)
        await playground.say("alex", "/cohort report pilot-a", channel=CHANNEL)

        answer = [m for m in await playground.from_bot("dana", where="channel") if m["ephemeral"]][
            -1
        ]
        refused = (await replies(playground, "alex"))[-1]

    assert answer["message"]["text"].startswith("KPIs of Pilot cohort A: week 1 (23 Nov to 29 Nov)")
    fields = card(answer)
    assert fields["🔴 Check-in participation (red)"].startswith("50%; target ≥ 75%")
    assert "1 of 2 check-ins answered" in fields["🔴 Check-in participation (red)"]
    assert "0 of 12 invited onboarded" in fields["🔴 Engaged (red)"], "nobody onboarded yet"
    assert fields["⚪ Satisfaction (no data)"].startswith("no data")
    assert "Funnel: 12 invited → 0 engaged → 0 reviewed → 0 improved" in answer["message"]["text"]
    assert refused.startswith("Only a facilitator or a program owner of Pilot cohort A can use")


async def test_an_earlier_week_shows_its_trend_and_a_future_week_is_refused(
    database_url: str,
) -> None:
    async with running_bot(scheduled(database_url)) as playground:
        await a_week_of_checkins(playground)
        await playground.advance(timedelta(days=5))  # Monday of week 2
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await submit(playground, "alex", "Ran a retro", "Time boxing")
        await submit(playground, "priya", "Coached a peer", "Saying no")
        await playground.advance(timedelta(hours=48))

        await playground.say("dana", "/cohort report --week 2", channel=CHANNEL)
        await playground.say("dana", "/cohort report --week 9", channel=CHANNEL)
        await playground.say("dana", "/cohort report --week 2 --program", channel=CHANNEL)
        texts = await replies(playground, "dana")

    week_two = next(t for t in texts if t.startswith("KPIs of Pilot cohort A: week 2"))
    assert "Check-in participation (green): 100% ▲ from 50%" in week_two
    assert texts[-2] == "Week 9 of Pilot cohort A has not started yet; it is week 2."
    program = texts[-1]
    assert program.startswith("KPIs of Peer learning pilot: week 2 (30 Nov to 06 Dec)")
    assert "Check-in participation (green): 100% ▲ from 50%" in program, "its one cohort"


async def digests_in_database(playground: Playground) -> tuple[int, int]:
    """(digest runs logged, digest DMs queued for Olivia, the owner)."""
    owner = await person_id(playground, "olivia")
    async with unit_of_work(playground.bot.sessions) as uow:
        sent = await uow.session.scalar(
            select(func.count(Activity.id)).where(Activity.verb == "kpi.digest_sent")
        )
        dms = await uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.person_id == owner,
                OutboxMessage.message["text"].as_string().like("KPIs of%"),
            )
        )
    return int(sent or 0), int(dms or 0)


async def test_the_owner_gets_one_digest_a_week_across_a_restart(database_url: str) -> None:
    config = scheduled(database_url)
    async with running_bot(config) as playground:
        await a_week_of_checkins(playground)  # until Wednesday 08:00 UTC
        assert await digests_in_database(playground) == (0, 0)
        await playground.advance(timedelta(days=2, hours=7, minutes=30))  # Fri 16:30 Berlin
        first = [t for t in await playground.dm_texts("olivia") if t.startswith("KPIs of")]
        assert len(first) == 1
        assert first[0].startswith("KPIs of Pilot cohort A: week 1")
        assert "Check-in participation (red): 50%" in first[0]
        dana = await playground.dm_texts("dana")
        assert not any(t.startswith("KPIs of") for t in dana), "only owners get the digest"

    # A restart on the same database at the same moment sends nothing again.
    restarted = ManualClock(datetime(2026, 11, 27, 15, 31, tzinfo=UTC))
    async with running_bot(config, clock=restarted) as playground:
        await playground.bot.settle()
        assert await digests_in_database(playground) == (1, 1)
        await playground.advance(timedelta(days=7))
        later = [t for t in await playground.dm_texts("olivia") if t.startswith("KPIs of")]
        assert await digests_in_database(playground) == (2, 2)

    assert len(later) == 1
    assert later[0].startswith("KPIs of Pilot cohort A: week 2")


async def test_review_turnaround_names_the_deadlines_the_reviews_really_had(
    database_url: str,
) -> None:
    async with running_bot(scheduled(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", "https://example.com/deck --due 3d")
        await playground.advance(timedelta(hours=20))
        await review(playground, "priya")
        await review(playground, "jordan")
        await playground.say("dana", "/cohort report", channel=CHANNEL)
        answer = [m for m in await playground.from_bot("dana", where="channel") if m["ephemeral"]]
        url = await link_from_dm(playground, "dana")
        page = await playground.http.get("/dashboard", params={"token": token_of(url)})
        body = await page.text()

    turnaround = next(v for k, v in card(answer[-1]).items() if "Review turnaround" in k)
    assert "2 of 2 review(s) on time (due in 3 days)" in turnaround
    assert "(due in 3 days)" in body
    assert "14 days" not in turnaround
