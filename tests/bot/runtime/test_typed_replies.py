"""A typed DM answers the question the person sees last, never an older one behind it."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Commitment, FlowRun
from tests.flows.onboarding.test_onboarding import complete_onboarding
from tests.flows.session.session_helpers import (
    activity,
    command,
    here,
    join,
    person_id,
    rows,
    start,
)
from tests.harness import Playground, demo_config, running_bot


async def to_commitments(playground: Playground) -> None:
    """A session reaches its commitments item: everyone present is asked for one by DM."""
    await start(playground)
    await here(playground, "alex")
    for _ in range(4):
        await command(playground, "next")
    assert (await playground.dm_texts("alex"))[-1].startswith("Commitments:")


async def profile_of(playground: Playground, user: str) -> dict[str, object]:
    (run,) = [r for r in await rows(playground, FlowRun) if r.flow.startswith("onboarding.")]
    return dict(run.data)


async def test_a_typed_reply_answers_the_rating_on_screen_not_an_older_commitment(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await to_commitments(playground)
        await command(playground, "end")  # the commitment question is left unanswered
        assert (await playground.dm_texts("alex"))[-1].startswith("How useful was today's")

        await playground.say("alex", "9")

        refused = (await playground.dm_texts("alex"))[-1]
        assert refused.startswith("Sorry, “9” is not a rating from 1 to 5")
        assert "How useful was today's session" in refused
        assert await rows(playground, Commitment) == []
        assert await activity(playground, "session.rated") == []


async def test_a_reply_that_fits_two_open_questions_asks_which(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await to_commitments(playground)
        await command(playground, "end")

        await playground.say("alex", "4")

        which = await playground.last_dm("alex")
        assert which["message"]["text"] == "You have 2 questions open. Which one does “4” answer?"
        assert await activity(playground, "session.rated") == []
        await playground.click("alex", which, "How useful")
        (rated,) = await activity(playground, "session.rated")
        assert rated.data == {"rating": 4}
        assert await rows(playground, Commitment) == []


async def test_an_older_question_is_asked_again_once_the_one_on_screen_is_answered(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex")
        await playground.say("alex", "yes")  # the time zone; the area question is next
        await to_commitments(playground)

        await playground.say("alex", "Ask for feedback after my next meeting")
        which = await playground.last_dm("alex")
        assert which["message"]["text"].startswith("You have 2 questions open.")
        await playground.click("alex", which, "Commitments")
        assert (await playground.dm_texts("alex"))[-1].startswith("By when?")
        for answer in ("default", "none"):
            await playground.say("alex", answer)

        (commitment,) = await rows(playground, Commitment)
        assert commitment.text == "Ask for feedback after my next meeting"
        assert "area" not in await profile_of(playground, "alex")
        assert (await playground.dm_texts("alex"))[-1].startswith("Noted:")
        await playground.advance(timedelta(minutes=10))
        again = (await playground.dm_texts("alex"))[-1]
        assert again.startswith("A question from earlier is still open:")
        assert "area of knowledge" in again
        await playground.say("alex", "Product design")
        assert (await profile_of(playground, "alex"))["area"] == "Product design"


async def test_buttons_stay_bound_to_their_own_question(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await join(playground, "alex")
        time_zone = await playground.last_dm("alex")
        await to_commitments(playground)

        await playground.click("alex", time_zone, "Yes")

        data = await profile_of(playground, "alex")
        assert data["time_zone"] == "Europe/Berlin"
        assert await rows(playground, Commitment) == []
        assert "area of knowledge" in (await playground.dm_texts("alex"))[-1]
        (commitment_run,) = [
            r for r in await rows(playground, FlowRun) if r.flow.startswith("session.")
        ]
        assert (commitment_run.step, commitment_run.data.get("action")) == ("action", None)


async def test_a_name_or_mention_picks_the_accountability_peer(sqlite_url: str) -> None:
    for reply in ("Priya Raman", "@priya"):
        async with running_bot(demo_config(sqlite_url.replace(".db", f"-{reply[0]}.db"))) as pg:
            await join(pg, "alex", "priya")
            await start(pg)
            await here(pg, "alex", "priya")
            for _ in range(4):
                await command(pg, "next")
            for answer in ("Ask for feedback", "ok", reply):
                await pg.say("alex", answer)

            (commitment,) = await rows(pg, Commitment)
            assert commitment.peer_id == await person_id(pg, "priya"), reply
