"""The survey understands what people naturally type, and always has a way out."""

from __future__ import annotations

from storage.models import FlowRun
from tests.flows.onboarding.test_onboarding import choose
from tests.flows.session.session_helpers import rows
from tests.harness import Playground, demo_config, running_bot


async def survey_data(playground: Playground) -> tuple[str, dict[str, object]]:
    (run,) = [r for r in await rows(playground, FlowRun) if r.flow.startswith("onboarding.")]
    return run.status, dict(run.data)


async def test_yes_ok_and_the_buttons_own_label_confirm_the_proposed_time_zone(
    sqlite_url: str,
) -> None:
    for reply in ("yes", "ok", "Sure!", "Yes, Europe/Berlin"):
        async with running_bot(demo_config(sqlite_url.replace(".db", f"-{len(reply)}.db"))) as pg:
            await pg.say("alex", "/cohort join pilot-a")
            await pg.say("alex", reply)

            _status, data = await survey_data(pg)
            assert data["time_zone"] == "Europe/Berlin", reply
            assert "area of knowledge" in (await pg.dm_texts("alex"))[-1]


async def test_a_typed_button_label_and_skip_answer_the_consent_question(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        for answer in ("yes", "Product design", "1", "2", "workshops"):
            await playground.say("alex", answer)
        await choose(playground, "alex", "select", "mornings")
        for rating in ("two", "four", "3", "one"):
            await playground.say("alex", rating)
        assert (await playground.dm_texts("alex"))[-1].startswith("Last one.")

        await playground.say("alex", "No, keep it within the cohort")

        status, data = await survey_data(playground)
        assert (status, data["manager_consent"]) == ("done", "no")
        assert [data[f"pre:{skill}"] for skill in ("giving feedback", "presenting")] == [2, 4]


async def test_skip_passes_a_question_without_saving_it(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "yes")
        await playground.say("alex", "skip")

        _status, data = await survey_data(playground)
        assert "area" not in data
        assert "strong in" in (await playground.dm_texts("alex"))[-1]


async def test_back_asks_the_previous_question_again(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "yes")
        await playground.say("alex", "Product desing")
        await playground.say("alex", "back")
        assert "area of knowledge" in (await playground.dm_texts("alex"))[-1]
        await playground.say("alex", "Product design")

        _status, data = await survey_data(playground)
        assert data["area"] == "Product design"


async def test_cancel_stops_the_survey_and_says_how_to_come_back(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        question = (await playground.dm_texts("alex"))[-1]
        await playground.say("alex", "yes")
        await playground.say("alex", "cancel")

        status, data = await survey_data(playground)
        assert status == "cancelled"
        assert "area" not in data
        assert "`/cohort profile`" in (await playground.dm_texts("alex"))[-1]
        assert "Your time zone is set to" in question


async def test_every_question_says_how_to_get_out(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "yes")

        question = await playground.last_dm("alex")
        hint = question["message"]["blocks"][-1]
        assert hint == {
            "type": "context",
            "text": "Type `skip` to skip this question, `back` to change your last answer "
            "or `cancel` to stop.",
        }
