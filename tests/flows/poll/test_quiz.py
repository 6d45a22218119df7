"""Quizzes from the program's question bank, and the session rating, on the poll machinery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.flows.poll.poll_helpers import (
    activity,
    bars,
    command,
    last_reply,
    live,
    members,
    polls,
    votes,
)
from tests.flows.session.session_helpers import here, person_id
from tests.flows.session.session_helpers import start as start_session
from tests.harness import CHANNEL, Playground, demo_config, running_bot, two_cohorts_config

RIGHT = [
    ["opening story"],
    ["Ask what they heard"],
    ["In the opening and again"],
    ["good outcome", "tried so far"],
]
"""The labels of the right options of the shipped quiz `feedback-basics`, per question."""


async def question(playground: Playground, number: int, person: str = "dana") -> Any:
    (found,) = await live(playground, f"❓ Question {number}:", person=person)
    return found


async def answer(playground: Playground, person: str, number: int, *labels: str) -> None:
    for label in labels:
        await playground.click(person, await question(playground, number, person), label)


async def test_a_quiz_is_scored_and_a_leaderboard_posted_at_the_close(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await members(playground, "alex", "priya", "jordan")
        await command(playground, "/cohort quiz feedback-basics")

        assert (await last_reply(playground, "dana")).startswith(
            "The quiz “Feedback and presenting basics” is posted (4 questions)"
        )
        (intro,) = await live(playground, "🧠 Quiz: Feedback and presenting basics.")
        assert "4 questions" in intro["message"]["text"]
        for number, labels in enumerate(RIGHT, start=1):
            await answer(playground, "alex", number, *labels)
        await answer(playground, "priya", 1, *RIGHT[0])
        await answer(playground, "priya", 2, "Repeat the point")
        await answer(playground, "priya", 3, *RIGHT[2])
        await answer(playground, "priya", 4, "good outcome")  # half of a two-part answer
        await answer(playground, "jordan", 2, "Drop the topic")
        await answer(playground, "jordan", 2, *RIGHT[1])  # changed before the close
        assert await last_reply(playground, "jordan") == (
            "Answer saved: Ask what they heard and how they see it. "
            "The right answers are shown when the quiz closes."
        )
        await playground.advance(timedelta(seconds=2))
        open_question = await question(playground, 2)
        assert "3 answered so far" in open_question["message"]["text"]
        assert not any(b["type"] == "result_bars" for b in open_question["message"]["blocks"])

        await command(playground, "/cohort quiz close")

        assert await last_reply(playground, "dana") == (
            "The quiz is closed; 3 took part. The leaderboard is posted."
        )
        (board,) = await live(playground, "🏆 Quiz results")
        assert board["message"]["text"].splitlines() == [
            "🏆 Quiz results: Feedback and presenting basics",
            "1. Alex Schneider: 4/4",
            "2. Priya Raman: 2/4",
            "3. Jordan Lee: 1/4",
            "3 took part; average 2.3 of 4.",
        ]
        closed = await question(playground, 2)
        assert bars(closed) == [
            ("Repeat the point more firmly", 1),
            ("✓ Ask what they heard and how they see it", 2),
            ("Drop the topic for good", 0),
        ]
        scores = {
            a.person_id: (a.object, a.data["score"], a.data["total"])
            for a in await activity(playground, "quiz.completed")
        }
        assert scores == {
            await person_id(playground, "alex"): ("quiz:feedback-basics", 4, 4),
            await person_id(playground, "priya"): ("quiz:feedback-basics", 2, 4),
            await person_id(playground, "jordan"): ("quiz:feedback-basics", 1, 4),
        }
        quiz_polls = await polls(playground)
        assert [(p.kind, p.position, p.correct) for p in quiz_polls] == [
            ("quiz", 0, [1]),
            ("quiz", 1, [1]),
            ("quiz", 2, [1]),
            ("quiz", 3, [0, 2]),
        ]
        assert {p.series for p in quiz_polls} == {"quiz:feedback-basics:1"}
        assert all(p.closed_at is not None for p in quiz_polls)
        assert len(await activity(playground, "poll.closed")) == 4
        assert len(await activity(playground, "poll.created")) == 4


async def test_a_quiz_closes_by_itself_at_its_time(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await members(playground, "alex")
        await command(playground, "/cohort quiz feedback-basics --closes 10m")
        await answer(playground, "alex", 3, *RIGHT[2])
        first = await question(playground, 1)  # as it was before the close, with its buttons
        await playground.advance(timedelta(minutes=10))

        (board,) = await live(playground, "🏆 Quiz results")
        assert "1. Alex Schneider: 1/4" in board["message"]["text"]
        await playground.click("alex", first, RIGHT[0][0])
        assert await last_reply(playground, "alex") == (
            "This quiz has closed; your vote was not counted."
        )
        (done,) = await activity(playground, "quiz.completed")
        assert done.data == {"score": 1, "total": 4, "series": "quiz:feedback-basics:1"}


async def test_an_unknown_quiz_or_a_second_open_one_is_refused(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await command(playground, "/cohort quiz")
        assert await last_reply(playground, "dana") == (
            "Quizzes of Pilot cohort A: feedback-basics. Start one with `/cohort quiz <id>`."
        )
        await command(playground, "/cohort quiz algebra")
        assert await last_reply(playground, "dana") == (
            "There is no quiz 'algebra'. Quizzes: feedback-basics."
        )
        await command(playground, "/cohort quiz close")
        assert await last_reply(playground, "dana") == "Pilot cohort A has no open quiz."
        await command(playground, "/cohort quiz feedback-basics")
        await command(playground, "/cohort quiz feedback-basics")
        assert await last_reply(playground, "dana") == (
            "A quiz is still open in this cohort; `/cohort quiz close` ends it first."
        )
        await command(playground, "/cohort quiz feedback-basics", person="alex")
        assert (await last_reply(playground, "alex")).startswith("Only a facilitator")
        assert len(await polls(playground)) == 4


async def _prompt(playground: Playground, person: str) -> tuple[Any, Any]:
    """The person's latest rating request and its rating block."""
    for message in reversed(await playground.from_bot(person, where="dm")):
        for block in message["message"]["blocks"]:
            if block["type"] == "rating":
                return message, block
    raise AssertionError(f"{person} got no rating request")


async def _rate(playground: Playground, person: str, stars: str) -> None:
    prompt, rating = await _prompt(playground, person)
    await playground.post(
        "action",
        {
            "person": person,
            "message_id": prompt["id"],
            "action_id": rating["action_id"],
            "value": stars,
        },
    )
    await playground.bot.settle()


async def test_the_session_rating_is_a_poll_only_attendees_vote_in_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await members(playground, "alex", "priya")
        await start_session(playground)
        await here(playground, "alex", "priya")
        await playground.say("dana", "/cohort session end", channel="cohort-pilot-a")

        await _rate(playground, "alex", "4")
        await _rate(playground, "alex", "2")
        await _rate(playground, "priya", "5")

        assert (await playground.dm_texts("alex"))[-1] == (
            "You've already rated this session. Thanks!"
        )
        (poll,) = await polls(playground)
        assert (poll.kind, poll.series, poll.options) == (
            "rating",
            "session:1",
            ["1", "2", "3", "4", "5"],
        )
        alex, priya = await person_id(playground, "alex"), await person_id(playground, "priya")
        assert sorted((v.person_id, v.choices) for v in await votes(playground)) == sorted(
            [(alex, [3]), (priya, [4])]
        )
        rated = {a.person_id: a.data for a in await activity(playground, "session.rated")}
        assert rated == {alex: {"rating": 4}, priya: {"rating": 5}}
        (created,) = await activity(playground, "poll.created")
        assert created.data == {"kind": "rating", "anonymous": False}

        # Someone who did not attend cannot rate, even with the button's values.
        _prompt_message, rating = await _prompt(playground, "alex")
        await members(playground, "jordan")
        await playground.say("jordan", "hello")
        jordan_dm = await playground.last_dm("jordan")
        await playground.post(
            "action",
            {
                "person": "jordan",
                "message_id": jordan_dm["id"],
                "action_id": rating["action_id"],
                "value": "1",
            },
        )
        await playground.bot.settle()
        assert (await playground.dm_texts("jordan"))[-1] == "That rating isn't for you."

        await playground.advance(timedelta(days=7))
        (closed,) = await activity(playground, "poll.closed")
        assert closed.data == {"votes": 2, "results": [0, 0, 0, 1, 1]}


async def test_two_cohorts_running_the_same_quiz_close_and_score_apart(database_url: str) -> None:
    async with running_bot(two_cohorts_config(database_url)) as playground:
        await members(playground, "alex")
        await playground.say("tom", "/cohort join pilot-b")
        await command(playground, "/cohort quiz feedback-basics --cohort pilot-a")
        await command(playground, "/cohort quiz feedback-basics --cohort pilot-b")
        (first,) = [
            m
            for m in await live(playground, "❓ Question 1:", person="alex")
            if m["channel_id"] == CHANNEL
        ]
        await playground.click("alex", first, RIGHT[0][0])

        await command(playground, "/cohort quiz close --cohort pilot-a")

        closed = {poll.cohort_id for poll in await polls(playground) if poll.closed_at}
        assert len(closed) == 1, "closing one cohort's quiz leaves the other's open"
        (completed,) = await activity(playground, "quiz.completed")
        assert completed.data["score"] == 1

        await playground.advance(timedelta(days=2))
        assert all(poll.closed_at for poll in await polls(playground)), (
            "the other cohort's quiz still closes by its own timer"
        )


async def test_the_leaderboard_names_nobody_who_scored_nothing(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await members(playground, "alex", "tom")
        await command(playground, "/cohort quiz feedback-basics")
        await answer(playground, "alex", 1, *RIGHT[0])
        await answer(playground, "tom", 1, "a bit long")
        await command(playground, "/cohort quiz close")

        (board,) = await live(playground, "🏆 Quiz results")
        text = board["message"]["text"]
        assert "1. Alex Schneider: 1/4" in text
        assert "Tom" not in text
        assert "2 took part; average 0.5 of 4." in text
