"""Polls in the playground: posting, voting, the one live message, closing, anonymity."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import AppConfig, LocalPerson
from bot.model.events import ActionInvoked, Actor
from bot.runtime.clock import ManualClock
from bot.runtime.sealed import SealedValues
from storage.models import Base, OutboxMessage, Poll, ScheduledItem
from storage.repositories.inbox import InboxRepository
from storage.uow import unit_of_work
from tests.flows.poll.poll_helpers import (
    activity,
    bars,
    command,
    last_reply,
    live,
    members,
    polls,
    tally,
    vote,
    votes,
)
from tests.flows.session.session_helpers import person_id
from tests.harness import (
    CHANNEL,
    START,
    demo_config,
    find_button,
    running_bot,
    two_cohorts_config,
)

REFRESH = timedelta(seconds=2)
"""Long enough for the coalesced refresh of the live message to run."""


def with_people(config: AppConfig, users: list[str]) -> AppConfig:
    """The config with more playground people (the shipped one has sixteen)."""
    local = config.platforms.local
    people = [*local.people, *(LocalPerson(id=user, name=user.title()) for user in users)]
    platforms = config.platforms.model_copy(
        update={"local": local.model_copy(update={"people": people})}
    )
    return config.model_copy(update={"platforms": platforms})


QUESTION = '/cohort poll "Which session format next?" "Role play" "Case study" "Open Q&A"'


async def test_a_poll_is_posted_with_buttons_and_closes_with_the_results(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        ids = await members(playground, "alex", "priya", "jordan")
        await command(playground, f"{QUESTION} --closes 1h")

        (message,) = await live(playground)
        buttons = next(b for b in message["message"]["blocks"] if b["type"] == "buttons")
        assert [b["label"] for b in buttons["buttons"]] == ["Role play", "Case study", "Open Q&A"]
        assert bars(message) == [("Role play", 0), ("Case study", 0), ("Open Q&A", 0)]
        assert (await last_reply(playground, "dana")).startswith("Poll #1 is posted")

        await vote(playground, "alex", "Role play")
        await vote(playground, "priya", "Case study")
        await vote(playground, "jordan", "Case study")
        assert await last_reply(playground, "jordan") == (
            "Your vote: Case study. Click again to change it until the poll closes."
        )
        await playground.advance(REFRESH)
        (message,) = await live(playground)
        assert bars(message) == [("Role play", 1), ("Case study", 2), ("Open Q&A", 0)]
        assert "Role play  ███░░░░░░░ 1 (33%)" in message["message"]["text"]
        assert "3 voted so far" in message["message"]["text"]

        await playground.advance(timedelta(hours=1))
        (message,) = await live(playground)
        assert "Closed · 3 voted." in message["message"]["text"]
        assert not any(b["type"] == "buttons" for b in message["message"]["blocks"])
        (results,) = [
            m
            for m in await playground.from_bot("alex", where="channel")
            if m["message"]["text"].startswith("Results of")
        ]
        assert results["thread_ref"] == message["id"], "the results answer the poll's thread"
        assert "Most chosen: Case study (2)." in results["message"]["text"]
        (poll,) = await polls(playground)
        assert poll.closed_at == START + timedelta(hours=1) + REFRESH
        (created,) = await activity(playground, "poll.created")
        assert (created.person_id, created.object, created.data) == (
            await person_id(playground, "dana"),
            "poll:1",
            {"kind": "poll", "anonymous": False},
        )
        voted = await activity(playground, "poll.voted")
        assert sorted(a.person_id for a in voted if a.person_id) == sorted(ids.values())
        (closed,) = await activity(playground, "poll.closed")
        assert (closed.object, closed.data) == ("poll:1", {"votes": 3, "results": [1, 2, 0]})


async def test_a_vote_can_be_changed_until_the_poll_closes(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await members(playground, "alex")
        await command(playground, QUESTION)
        await vote(playground, "alex", "Role play")
        await vote(playground, "alex", "Open Q&A")

        assert await tally(playground, 1) == ([0, 0, 1], 1)
        assert await last_reply(playground, "alex") == (
            "Your vote: Open Q&A. Click again to change it until the poll closes."
        )
        assert len(await activity(playground, "poll.voted")) == 1, "a change is not a new voter"
        await playground.advance(REFRESH)
        assert bars((await live(playground))[0]) == [
            ("Role play", 0),
            ("Case study", 0),
            ("Open Q&A", 1),
        ]


async def test_multiple_choice_toggles_each_option(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await members(playground, "alex", "priya")
        await command(playground, f"{QUESTION} --multi")
        await vote(playground, "alex", "Role play")
        await vote(playground, "alex", "Open Q&A")
        await vote(playground, "priya", "Open Q&A")
        assert await last_reply(playground, "alex") == (
            "Your vote: Role play, Open Q&A. Click again to change it until the poll closes."
        )
        await vote(playground, "alex", "Role play")

        assert await tally(playground, 1) == ([0, 0, 2], 2)
        await vote(playground, "priya", "Open Q&A")
        assert await tally(playground, 1) == ([0, 0, 1], 1)
        assert await last_reply(playground, "priya") == (
            "You have no options ticked now; your vote is withdrawn."
        )


async def test_a_vote_after_the_close_is_refused(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await members(playground, "alex", "priya")
        await command(playground, QUESTION)
        (message,) = await live(playground)
        await vote(playground, "alex", "Case study", message)
        await command(playground, "/cohort poll close")
        assert (await last_reply(playground, "dana")) == (
            "Poll #1 is closed with 1 voted; the results are posted."
        )

        await vote(playground, "priya", "Role play", message)
        await vote(playground, "alex", "Role play", message)

        assert await last_reply(playground, "priya") == (
            "This poll has closed; your vote was not counted."
        )
        assert await tally(playground, 1) == ([0, 1, 0], 1)
        await command(playground, "/cohort poll close 1")
        assert await last_reply(playground, "dana") == "Poll #1 is already closed."


async def test_the_closing_timer_survives_a_restart(sqlite_url: str) -> None:
    config = demo_config(sqlite_url)
    clock = ManualClock(START)
    async with running_bot(config, clock=clock) as playground:
        await members(playground, "alex")
        await command(playground, f"{QUESTION} --closes 10m")
        await vote(playground, "alex", "Open Q&A")

    clock.advance(timedelta(minutes=15))  # the bot is down when the poll should close
    async with running_bot(config, clock=clock) as playground:
        await playground.bot.settle()

        (poll,) = await polls(playground)
        assert poll.closed_at == START + timedelta(minutes=15)
        (closed,) = await activity(playground, "poll.closed")
        assert closed.data == {"votes": 1, "results": [0, 0, 1]}
        async with unit_of_work(playground.bot.sessions) as uow:
            updates = list(
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.update_of_key == "poll:1")
                )
            )
            results = list(
                await uow.session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.target["kind"].as_string() == "thread"
                    )
                )
            )
        # The playground's chat history lives in memory and went with the first process,
        # so only what was queued is checked here (the Slack test follows delivery).
        assert "Closed · 1 voted." in updates[-1].message["text"]
        assert [r.message["text"].splitlines()[0] for r in results] == [
            "Results of “Which session format next?” (1 voted)"
        ]


async def test_bad_input_gets_a_clear_answer_and_creates_nothing(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await members(playground, "alex")
        cases = {
            '/cohort poll "Only one?" "Yes"': "A poll needs at least 2 options",
            "/cohort poll " + '"Q" ' + " ".join(f'"o{n}"' for n in range(11)): (
                "A poll has at most 10 options (you gave 11)."
            ),
            '/cohort poll "Q" "Same" "same"': "Two options are the same",
            '/cohort poll "Q" "A" "B" --closes 45d': "--closes must be between 1 minute and 30",
            '/cohort poll "Q" "A" "B" --closes soon': "--closes:",
            f'/cohort poll "{"x" * 301}" "A" "B"': "keep it to 300",
            '/cohort poll "Q" "A" "B" --secret': "poll has no option --secret",
            '/cohort poll "Q" "A" "B': "Unbalanced quote",
        }
        for text, expected in cases.items():
            await command(playground, text)
            assert expected in await last_reply(playground, "dana"), text
        await command(playground, QUESTION, person="alex")
        assert (await last_reply(playground, "alex")).startswith(
            "Only a facilitator or a program owner of Pilot cohort A can use `/cohort poll`."
        )
        await command(playground, "/cohort poll close")
        assert await last_reply(playground, "dana") == "Pilot cohort A has no open poll to close."
        assert await polls(playground) == []
        assert await live(playground) == []


async def test_a_burst_of_votes_updates_the_live_message_once(database_url: str) -> None:
    people = ["alex", "priya", "jordan", "lena", "tom", "aisha", "mateo", "yuki"]
    async with running_bot(demo_config(database_url)) as playground:
        await members(playground, *people)
        await command(playground, QUESTION)
        for person in people:
            await vote(playground, person, "Case study")
        await playground.advance(REFRESH)

        async with unit_of_work(playground.bot.sessions) as uow:
            updates = list(
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.update_of_key == "poll:1")
                )
            )
            timers = list(
                await uow.session.scalars(
                    select(ScheduledItem).where(ScheduledItem.key.startswith("poll:1:refresh"))
                )
            )
        assert len(updates) == 1, "eight votes in one window: one update"
        assert len(timers) == 1
        assert bars((await live(playground))[0])[1] == ("Case study", 8)


async def test_a_hundred_concurrent_votes_all_count_in_one_live_message(
    database_url: str,
) -> None:
    voters = [f"voter{n:03d}" for n in range(100)]
    config = with_people(demo_config(database_url), voters)
    async with running_bot(config) as playground:
        await members(playground, *voters)
        await command(playground, QUESTION)
        (message,) = await live(playground)
        buttons = next(b for b in message["message"]["blocks"] if b["type"] == "buttons")

        async def click(index: int, voter: str) -> None:
            button = buttons["buttons"][index % 3]
            await playground.post(
                "action",
                {
                    "person": voter,
                    "message_id": message["id"],
                    "action_id": button["action_id"],
                    "value": button["value"],
                },
            )

        await asyncio.gather(*(click(i, v) for i, v in enumerate(voters)))
        await playground.bot.settle()
        await playground.advance(REFRESH)

        assert await tally(playground, 1) == ([34, 33, 33], 100)
        assert len(await votes(playground)) == 100
        assert len(await activity(playground, "poll.voted")) == 100
        (message,) = await live(playground)
        assert bars(message) == [("Role play", 34), ("Case study", 33), ("Open Q&A", 33)]
        async with unit_of_work(playground.bot.sessions) as uow:
            originals = list(
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.ref_key == "poll:1")
                )
            )
        assert len(originals) == 1, "one live message"


async def test_an_anonymous_poll_leaves_no_readable_link_between_a_person_and_a_choice(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[dict[str, Any]] = []
    record_many = InboxRepository.record_many

    async def spy(
        self: InboxRepository, rows: list[tuple[str, str, dict[str, Any]]], *, now: datetime
    ) -> list[int | None]:
        written.extend(payload for _platform, _event_id, payload in rows)
        return await record_many(self, rows, now=now)

    monkeypatch.setattr(InboxRepository, "record_many", spy)
    async with running_bot(demo_config(database_url)) as playground:
        ids = await members(playground, "alex", "priya")
        await command(playground, '/cohort poll "Best time?" "Mornings" "Evenings" --anonymous')
        await vote(playground, "alex", "Evenings")
        await vote(playground, "priya", "Mornings")
        await vote(playground, "priya", "Evenings")
        await vote(playground, "priya", "Mornings")
        await playground.advance(REFRESH)

        (message,) = await live(playground)
        assert "2 voted so far" in message["message"]["text"]
        assert not any(b["type"] == "result_bars" for b in message["message"]["blocks"]), (
            "while open, moving bars would tell who just chose what"
        )
        assert await last_reply(playground, "alex") == (
            "Your vote is counted. The poll is anonymous: nobody can see who chose what."
        )
        await command(playground, "/cohort poll close")
        (message,) = await live(playground)
        assert bars(message) == [("Mornings", 1), ("Evenings", 1)]

        (poll,) = await polls(playground)
        stored = await votes(playground)
        assert [v.person_id for v in stored] == [None, None]
        assert all(len(v.voter) == 64 and v.voter not in {"1", "2", "3", "4", "5"} for v in stored)
        assert {v.voter for v in stored}.isdisjoint(str(i) for i in ids.values())
        assert all(v.at == poll.created_at for v in stored), "no vote time to line up"
        voted = await activity(playground, "poll.voted")
        assert [(a.person_id, a.data) for a in voted] == [(None, {}), (None, {})]
        assert all(a.at == poll.created_at for a in voted), "no moment to line up either"
        # Not even for a moment: the inbox rows were written without the choice.
        clicked = [p for p in written if p.get("kind") == "action"]
        assert len(clicked) == 4
        assert all(p["value"].startswith("sealed:") and len(p["value"]) > 20 for p in clicked)
        # Every row of every table: none that names a voter also names an option.
        names = {"alex": "Alex Schneider", "priya": "Priya Raman"}
        async with unit_of_work(playground.bot.sessions) as uow:
            for table in Base.metadata.sorted_tables:
                for row in (await uow.session.execute(select(table))).mappings():
                    text = " ".join(str(value) for value in row.values())
                    for user, person in ids.items():
                        names_voter = (
                            re.search(rf"\b{user}\b", text) is not None
                            or names[user] in text
                            or row.get("person_id") == person
                        )
                        if names_voter:
                            assert "Mornings" not in text, (table.name, text)
                            assert "Evenings" not in text, (table.name, text)
        async with unit_of_work(playground.bot.sessions) as uow:
            inbox = (await uow.session.execute(select(Base.metadata.tables["inbox"]))).mappings()
            clicks = [r["payload"] for r in inbox if r["payload"].get("kind") == "action"]
        assert len(clicks) == 4
        assert all(p.get("redacted") and "actor" not in p for p in clicks)


async def test_an_anonymous_vote_whose_value_a_restart_lost_is_asked_again(
    sqlite_url: str,
) -> None:
    config = demo_config(sqlite_url)
    async with running_bot(config) as playground:
        await members(playground, "alex")
        await command(playground, '/cohort poll "Best time?" "Mornings" "Evenings" --anonymous')
        (message,) = await live(playground, person="alex")
        button = find_button(message, "Evenings")
        clicked = ActionInvoked(
            event_id="click-before-the-crash",
            actor=Actor(platform="local", workspace="local", user_id="alex"),
            channel_id=CHANNEL,
            action_id=button["action_id"],
            value=button["value"],
            message_ref=str(message["id"]),
        )
        sealed_click = SealedValues().seal(clicked)  # as the process that died recorded it
        async with unit_of_work(playground.bot.sessions) as uow:
            await uow.inbox.record(
                platform="local",
                event_id=sealed_click.event_id,
                payload=sealed_click.model_dump(mode="json"),
                now=playground.clock.now(),
            )
        clock = playground.clock

    async with running_bot(config, clock=clock) as restarted:
        await restarted.bot.settle()

        assert "Please click again" in await last_reply(restarted, "alex")
        assert await votes(restarted) == []


async def test_members_only_may_vote(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, QUESTION)
        await vote(playground, "emma", "Role play")

        assert await last_reply(playground, "emma") == "Only members of Pilot cohort A can vote."
        assert await votes(playground) == []


async def test_help_explains_the_poll_command(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("dana", "/cohort help poll", channel=CHANNEL)

        text = await last_reply(playground, "dana")
        assert '/cohort poll "Question" "Option A" "Option B" ...' in text
        assert "--anonymous" in text
        assert "--closes 2h" in text


async def test_a_poll_row_remembers_its_live_message(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, f"{QUESTION} --anonymous --multi --closes 90m")

        (poll,) = await polls(playground)
        assert isinstance(poll, Poll)
        assert (poll.kind, poll.multi, poll.anonymous, poll.ref_key) == (
            "poll",
            True,
            True,
            "poll:1",
        )
        assert poll.options == ["Role play", "Case study", "Open Q&A"]
        assert poll.closes_at == START + timedelta(minutes=90)
        assert (await last_reply(playground, "dana")).startswith(
            "Poll #1 is posted in the channel of Pilot cohort A. It closes in 90 minutes;"
        )


async def test_a_poll_typed_without_quotes_takes_options_separated_by_commas_or_bars(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, "/cohort poll Which format next session? Role play, Case study")
        await command(playground, "/cohort poll Best time | Early morning | Late evening --multi")
        await command(playground, '/cohort poll "Which room?" Big hall, Small room')
        await command(playground, '/cohort poll Which day? "Monday, early" "Friday, late"')
        await command(playground, "/cohort poll Which day suits you?, Monday | Tuesday")

        assert [(p.question, p.options) for p in await polls(playground)] == [
            ("Which format next session?", ["Role play", "Case study"]),
            ("Best time", ["Early morning", "Late evening"]),
            ("Which room?", ["Big hall", "Small room"]),
            ("Which day?", ["Monday, early", "Friday, late"]),
            ("Which day suits you?", ["Monday", "Tuesday"]),
        ]
        buttons = next(
            b for b in (await live(playground))[0]["message"]["blocks"] if b["type"] == "buttons"
        )
        assert [b["label"] for b in buttons["buttons"]] == ["Role play", "Case study"]


async def test_a_poll_the_bot_cannot_read_confidently_is_refused_with_the_usage(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        cases = {
            "/cohort poll Which format next session Role play Case study": (
                "Where does the question end?"
            ),
            "/cohort poll Which format next session? Role play Case study": (
                "A poll needs at least 2 options"
            ),
            "/cohort poll Which format, role play, case study": "Where does the question end?",
            "/cohort poll Which format? Role play,, Case study": "An option is empty.",
            '/cohort poll "Which format?" Role play Case study': "A poll needs at least 2 options",
        }
        for text, expected in cases.items():
            await command(playground, text)
            reply = await last_reply(playground, "dana")
            assert expected in reply, text
            assert "Usage: /cohort poll" in reply, text
        assert await polls(playground) == []
        assert await live(playground) == []


async def test_an_anonymous_multiple_choice_receipt_tells_a_tick_from_an_untick(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await members(playground, "alex")
        await command(playground, f"{QUESTION} --multi --anonymous")
        receipts = []
        for label in ("Role play", "Open Q&A", "Role play"):
            await vote(playground, "alex", label)
            receipts.append(await last_reply(playground, "alex"))

        anonymous = "The poll is anonymous: nobody can see who chose what."
        assert receipts == [
            f"Option ticked; you have 1 ticked. {anonymous}",
            f"Option ticked; you have 2 ticked. {anonymous}",
            f"Option unticked; you have 1 ticked. {anonymous}",
        ]
        assert await tally(playground, 1) == ([0, 0, 1], 1)


async def test_each_cohort_numbers_its_polls_from_one(sqlite_url: str) -> None:
    async with running_bot(two_cohorts_config(sqlite_url)) as playground:
        await playground.say("dana", f"{QUESTION}", channel="cohort-pilot-b")
        await command(playground, QUESTION)
        assert (await last_reply(playground, "dana")).startswith(
            "Poll #1 is posted in the channel of Pilot cohort A."
        )
        await command(playground, '/cohort poll "Lunch?" "Yes" "No"')
        assert (await last_reply(playground, "dana")).startswith("Poll #2 is posted")

        await command(playground, "/cohort poll close 1")
        assert await last_reply(playground, "dana") == (
            "Poll #1 is closed with 0 voted; the results are posted."
        )
        b_first, a_first, a_second = await polls(playground)
        assert (b_first.closed_at, a_second.closed_at) == (None, None)
        assert a_first.closed_at is not None
        await command(playground, "/cohort poll close 3")
        assert await last_reply(playground, "dana") == "Pilot cohort A has no open poll to close."
