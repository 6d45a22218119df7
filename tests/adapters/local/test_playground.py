"""The playground round trip: HTTP in, flows and storage, messages back on the page's feed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Activity, FlowRun, InboxEvent, Membership, OutboxMessage
from storage.uow import unit_of_work
from tests.harness import CHANNEL, demo_config, find_button, running_bot


async def test_join_in_the_channel_records_membership_and_sends_welcome_dm(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a", channel=CHANNEL)

        replies = await playground.from_bot("alex", where="channel")
        assert replies[-1]["ephemeral"] is True
        assert "You joined Pilot cohort A" in replies[-1]["message"]["text"]
        dms = await playground.dm_texts("alex")
        assert dms[0].startswith("Welcome to Pilot cohort A, Alex!")
        assert "time zone" in dms[1]
        assert await playground.dm_texts("priya") == [], "a DM is seen by its person only"
        async with unit_of_work(playground.bot.sessions) as uow:
            roles = await uow.cohorts.roles_by_user("local", "local")
            joined = await uow.activity.count(verb="cohort.joined")
        assert roles["alex"] == {"participant"}
        assert joined == 1


async def test_joining_twice_says_so_and_changes_nothing(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort join pilot-a")

        assert "already in Pilot cohort A" in (await playground.dm_texts("alex"))[-1]
        async with unit_of_work(playground.bot.sessions) as uow:
            count = await uow.session.scalar(
                select(func.count(Membership.id)).where(Membership.role == "participant")
            )
        assert count == 1


async def test_confirming_time_zone_by_button_moves_on_to_the_survey(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        question = await playground.last_dm("alex")
        await playground.click("alex", question, "Yes")

        assert (await playground.dm_texts("alex"))[-1] == "What is your main area of knowledge?"
        async with unit_of_work(playground.bot.sessions) as uow:
            run = await uow.session.scalar(select(FlowRun))
        assert run is not None
        assert (run.status, run.step, run.data["time_zone"]) == ("waiting", "area", "Europe/Berlin")


async def test_invalid_time_zone_is_asked_again_with_the_reason(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "Mars/Olympus")

        retry = (await playground.dm_texts("alex"))[-1]
        assert "'Mars/Olympus' is not a time zone I know" in retry
        assert "Is that right?" in retry

        await playground.say("alex", "new york")
        async with unit_of_work(playground.bot.sessions) as uow:
            run = await uow.session.scalar(select(FlowRun))
        assert run is not None
        assert run.data["time_zone"] == "America/New_York"


async def test_clicking_an_answered_question_again_is_refused_politely(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        question = await playground.last_dm("alex")
        await playground.click("alex", question, "Yes")
        await playground.click("alex", question, "Yes")

        assert (await playground.dm_texts("alex"))[-1] == "That question was already answered."


async def test_unanswered_question_gets_one_reminder_then_facilitator_hears(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.advance(timedelta(hours=23))
        assert not any(t.startswith("Reminder") for t in await playground.dm_texts("alex"))

        await playground.advance(timedelta(hours=2))
        reminders = [t for t in await playground.dm_texts("alex") if t.startswith("Reminder")]
        assert len(reminders) == 1

        await playground.advance(timedelta(hours=30))
        dana = await playground.dm_texts("dana")
        assert any("Alex" in t and "not onboarded" in t for t in dana)
        await playground.advance(timedelta(days=3))
        reminders = [t for t in await playground.dm_texts("alex") if t.startswith("Reminder")]
        assert len(reminders) == 1, "one reminder only"


async def test_answering_cancels_the_pending_reminder(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.advance(timedelta(hours=20))
        await playground.say("alex", "Europe/Lisbon")
        await playground.advance(timedelta(hours=10))

        reminders = [t for t in await playground.dm_texts("alex") if t.startswith("Reminder")]
        assert reminders == [], "the time-zone reminder was cancelled by the answer"
        await playground.advance(timedelta(hours=20))
        reminders = [t for t in await playground.dm_texts("alex") if t.startswith("Reminder")]
        assert reminders == ["Reminder: What is your main area of knowledge?"]


async def test_participant_asking_for_facilitator_command_is_told_who_can(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort members", channel=CHANNEL)

        reply = (await playground.from_bot("alex", where="channel"))[-1]
        assert reply["ephemeral"] is True
        text = reply["message"]["text"]
        assert "Only a facilitator" in text
        assert "Dana Fischer" in text


async def test_facilitator_lists_members_with_roles(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("dana", "/cohort members pilot-a")

        reply = (await playground.dm_texts("dana"))[-1]
        assert "Alex" in reply
        assert "Dana Fischer: facilitator" in reply


async def test_help_in_a_dm_and_as_a_command_lists_the_commands(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "help")
        await playground.say("alex", "/cohort help", channel=CHANNEL)

        dm_help = (await playground.dm_texts("alex"))[-1]
        channel_help = (await playground.from_bot("alex", where="channel"))[-1]
        for text in (dm_help, channel_help["message"]["text"]):
            assert "/cohort join <cohort>" in text
            assert "/cohort help" in text


async def test_malformed_command_gets_usage_line(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join")
        await playground.say("alex", "/cohort jion pilot-a")

        errors = (await playground.dm_texts("alex"))[-2:]
        assert "Usage: /cohort join <cohort>" in errors[0]
        assert "Did you mean 'join'" in errors[1]


async def test_unknown_cohort_lists_the_ones_that_exist(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-z")

        assert "Cohorts you can join: pilot-a" in (await playground.dm_texts("alex"))[-1]


async def test_page_and_api_answer_over_http(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        page = await playground.http.get("/")
        state = await (await playground.http.get("/playground/api/state")).json()
        script = await playground.http.get("/playground.js")

        assert page.status == 200
        assert "cohortbot playground" in await page.text()
        assert script.status == 200
        assert len(state["people"]) == 16
        assert {"id": CHANNEL, "name": "Pilot cohort A"} in state["channels"]
        dana = next(p for p in state["people"] if p["id"] == "dana")
        assert dana["roles"] == ["facilitator"]


async def test_bad_playground_requests_get_clear_errors(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        unknown = await playground.http.post(
            "/playground/api/say", json={"person": "nobody", "text": "hi"}
        )
        empty = await playground.http.post(
            "/playground/api/say", json={"person": "alex", "text": "  "}
        )
        not_json = await playground.http.post(
            "/playground/api/say", data="{", headers={"Content-Type": "application/json"}
        )

        assert unknown.status == 404
        assert (await unknown.json())["error"] == "unknown person 'nobody'"
        assert empty.status == 400
        assert not_json.status == 400
        async with unit_of_work(playground.bot.sessions) as uow:
            assert await uow.inbox.count() == 0


async def test_every_message_is_one_outbox_row_sent_once(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        question = await playground.last_dm("alex")
        find_button(question, "Yes")
        async with unit_of_work(playground.bot.sessions) as uow:
            statuses = list(await uow.session.scalars(select(OutboxMessage.status)))
            inbox = list(await uow.session.scalars(select(InboxEvent.status)))
            verbs = list(await uow.session.scalars(select(Activity.verb)))
        assert statuses == ["sent"] * 3
        assert inbox == ["done"]
        assert "cohort.joined" in verbs


async def test_an_unknown_command_points_to_help_once(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort foo", channel=CHANNEL)

        reply = (await playground.from_bot("alex", where="channel"))[-1]
        shown = [reply["message"]["text"]] + [
            block.get("text", "") for block in reply["message"]["blocks"]
        ]
        assert reply["message"]["text"].startswith("Unknown command 'foo'.")
        assert sum(text.count("/cohort help") for text in shown[1:]) == 1, shown
        assert reply["message"]["text"].count("/cohort help") == 1


async def test_members_lists_the_invited_who_have_not_joined_yet(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("dana", "/cohort members pilot-a")

        reply = (await playground.dm_texts("dana"))[-1]
        assert "Alex Schneider: participant" in reply
        invited = next(line for line in reply.splitlines() if line.startswith("Invited"))
        assert "Tom Whitaker" in invited
        assert "Priya Raman" in invited
        assert "Alex Schneider" not in invited, "joined people are members, not invited"


async def test_a_slash_command_in_the_channel_is_seen_by_nobody_else(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort jion pilot-a", channel=CHANNEL)
        await playground.say("alex", "Morning all!", channel=CHANNEL)

        seen_by_priya = [m["message"]["text"] for m in await playground.feed("priya")]
        seen_by_alex = [m["message"]["text"] for m in await playground.feed("alex")]
        assert "Morning all!" in seen_by_priya
        assert not any("jion" in text for text in seen_by_priya)
        assert "/cohort jion pilot-a" in seen_by_alex
