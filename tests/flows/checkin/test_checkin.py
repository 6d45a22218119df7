"""Round-robin check-ins in the playground: prompts, answers, digest, help, nudges, misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.flows.checkin.checkin_helpers import (
    answers,
    channel_posts,
    digests,
    join,
    logged,
    person_id,
    prompts,
    replies,
    rounds,
    shipped,
    submit,
)
from tests.harness import CHANNEL, Playground, running_bot


async def nudges(playground: Playground, person: str) -> int:
    return sum("gentle nudge" in text for text in await playground.dm_texts(person))


def order_of_names(digest_text: str, names: list[str]) -> list[str]:
    """The names in the order the digest lists them."""
    return sorted(names, key=digest_text.index)


async def test_answers_are_posted_as_a_digest_whose_first_person_rotates(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1].startswith(
            "Check-in round 1 is open: I've asked 3 participants by DM."
        )
        await submit(playground, "alex", "Ran my first retro", "Keeping people on time")
        await submit(playground, "priya", "Gave clear feedback", "Presenting to execs")
        await submit(playground, "jordan", "Coached a peer", "Saying no")
        assert await digests(playground) == [], "the digest waits for the round to close"

        await playground.advance(timedelta(hours=48))
        first = (await digests(playground))[-1]["message"]["text"]
        names = ["Alex Schneider", "Priya Raman", "Jordan Lee"]
        assert "3 of 3 shared" in first
        assert (
            "Alex Schneider: success: Ran my first retro; challenge: Keeping people on time"
            in first
        )

        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        for person in ("alex", "priya", "jordan"):
            await submit(playground, person, f"{person} win", f"{person} challenge")
        await playground.advance(timedelta(hours=48))
        second = (await digests(playground))[-1]["message"]["text"]

        one, two = await rounds(playground)
        people = {
            await person_id(playground, h): n
            for h, n in zip(("alex", "priya", "jordan"), names, strict=True)
        }
        assert order_of_names(first, names) == [people[pid] for pid in one.order]
        assert order_of_names(second, names) == [people[pid] for pid in two.order]
        assert order_of_names(first, names)[0] != order_of_names(second, names)[0]
        assert two.order == one.order[1:] + one.order[:1]
        assert all(a.answered_at is not None for a in (await answers(playground, one.id)).values())
        assert len(await logged(playground, "checkin.answered")) == 6
        assert len(await logged(playground, "checkin.digest_posted")) == 2


async def test_a_blank_checkin_is_refused_not_submitted(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        question = await playground.last_dm("alex")
        answer = await submit(playground, "alex", "Led a workshop", "   ")

        assert answer == {
            "ok": False,
            "errors": {"challenge": "Please fill this in (not just spaces)."},
        }
        assert await playground.last_dm("alex") == question  # the form stays, nothing said
        (round_,) = await rounds(playground)
        row = (await answers(playground, round_.id))[await person_id(playground, "alex")]
        assert (row.success, row.challenge, row.answered_at) == (None, None, None)

        await playground.say("alex", "Led a workshop")
        assert (await playground.dm_texts("alex"))[-1].startswith("Thanks! What is one challenge")
        await playground.say("alex", "Time boxing")

        row = (await answers(playground, round_.id))[await person_id(playground, "alex")]
        assert (row.success, row.challenge) == ("Led a workshop", "Time boxing")
        assert (await playground.dm_texts("alex"))[-1].startswith("Thanks for checking in!")


async def test_a_peer_picks_up_a_challenge_marked_for_help(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await submit(playground, "alex", "Shipped the deck", "Nervous presenting")
        await playground.click("alex", await playground.last_dm("alex"), "I'd like help")
        await submit(playground, "priya", "Ran a session", "Nothing big")
        await playground.advance(timedelta(hours=48))

        digest = (await digests(playground))[-1]
        assert "Alex Schneider would like help." in digest["message"]["text"]
        await playground.click("alex", digest, "I can help Alex")
        assert (await replies(playground, "alex"))[
            -1
        ] == "That's your own challenge; a peer will pick it up."

        await playground.click("priya", digest, "I can help Alex")

        (round_,) = await rounds(playground)
        row = (await answers(playground, round_.id))[await person_id(playground, "alex")]
        assert row.wants_help is True
        assert row.helper_id == await person_id(playground, "priya")
        told = (await playground.dm_texts("alex"))[-1]
        assert told.startswith("Priya Raman offered to help with your challenge")
        updated = (await digests(playground))[-1]
        assert updated["id"] == digest["id"], "the digest is updated in place"
        assert "Priya Raman is helping Alex Schneider." in updated["message"]["text"]
        assert not any(
            b["label"].startswith("I can help")
            for block in updated["message"]["blocks"]
            for b in block.get("buttons", [])
        )
        (offered,) = await logged(playground, "checkin.help_offered")
        assert offered.person_id == row.helper_id


async def test_one_nudge_and_two_missed_rounds_put_someone_on_the_nudge_list(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        for round_number in (1, 2):
            await playground.say("dana", "/cohort checkin", channel=CHANNEL)
            await submit(playground, "priya", "A win", "A challenge")
            await playground.advance(timedelta(hours=23, minutes=59))
            assert await nudges(playground, "alex") == round_number - 1
            await playground.advance(timedelta(minutes=1))
            assert await nudges(playground, "alex") == round_number
            await playground.advance(timedelta(hours=25))
            assert await nudges(playground, "alex") == round_number, "one nudge per round"

        assert await nudges(playground, "priya") == 0
        assert len(await logged(playground, "checkin.missed")) == 2

        await playground.say("dana", "/cohort nudges", channel=CHANNEL)
        listing = (await replies(playground, "dana"))[-1]
        assert listing.startswith("Needs a nudge in Pilot cohort A (1):")
        assert "Alex Schneider*: missed the last 2 check-ins; last check-in never" in listing
        assert "Priya" not in listing

        await playground.say("priya", "/cohort nudges", channel=CHANNEL)
        assert (await replies(playground, "priya"))[-1].startswith(
            "Only a facilitator or a program owner"
        )


async def test_away_people_are_not_prompted_and_holidays_are_skipped(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await playground.say("priya", "/cohort away until 2026-11-30")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        assert len(await prompts(playground, "alex")) == 1
        assert await prompts(playground, "priya") == []
        (round_,) = await rounds(playground)
        assert set(await answers(playground, round_.id)) == {await person_id(playground, "alex")}

        # Thursday 24 December 2026 is a program holiday.
        await playground.advance(datetime(2026, 12, 24, 9, 0, tzinfo=UTC) - playground.clock.now())
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        assert (await replies(playground, "dana"))[-1].startswith(
            "There is nobody to ask right now"
        )
        assert len(await rounds(playground)) == 1


async def test_the_round_survives_a_restart(sqlite_url: str) -> None:
    config = shipped(sqlite_url)
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await submit(playground, "priya", "Before the restart", "Still here")
        clock = playground.clock

    async with running_bot(config, clock=clock) as playground:
        await playground.say("alex", "After the restart")
        await playground.say("alex", "Restarts")
        await playground.advance(timedelta(hours=48))

        text = (await digests(playground))[-1]["message"]["text"]
        assert "2 of 2 shared" in text
        assert "Alex Schneider: success: After the restart; challenge: Restarts" in text
        assert len(await rounds(playground)) == 1
        assert any(
            "check-in round 1" in m["message"]["text"].lower()
            for m in await channel_posts(playground)
        )


async def test_a_second_round_is_refused_while_one_is_open(sqlite_url: str) -> None:
    async with running_bot(shipped(sqlite_url)) as playground:
        await join(playground, "alex")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        assert (await replies(playground, "dana"))[-1].startswith("Check-in round 1 is still open")
        assert len(await prompts(playground, "alex")) == 1
        await playground.say("alex", "/cohort checkin", channel=CHANNEL)
        assert (await replies(playground, "alex"))[-1].startswith(
            "Only a facilitator or a program owner"
        )
