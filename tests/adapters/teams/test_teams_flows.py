"""Conversations in Teams: joining, card answers, proactive DMs, members added."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import FlowRun, Identity
from storage.uow import UnitOfWork, unit_of_work
from tests.adapters.teams.conftest import APP_ID, CHANNEL, TENANT, TeamsRig, find_action

PERSONAL = "message_personal.json"


async def _join_in_personal_chat(rig: TeamsRig) -> tuple[str, dict[str, Any]]:
    """`cohort join pilot-a` in the person's chat; the conversation and the question card."""
    message = rig.activity(PERSONAL, text="cohort join pilot-a")
    await rig.send(message)
    conversation = message["conversation"]["id"]
    question = rig.fake.messages(conversation)[-1].body
    return conversation, question


async def _identity(uow: UnitOfWork, user_id: str) -> Identity | None:
    found: Identity | None = await uow.session.scalar(
        select(Identity).where(Identity.platform_user_id == user_id)
    )
    return found


async def _time_zone_run(rig: TeamsRig) -> FlowRun:
    """The flow run that asked the time-zone question."""
    async with unit_of_work(rig.bot.sessions) as uow:
        runs = list(await uow.session.scalars(select(FlowRun).order_by(FlowRun.id)))
    assert len(runs) == 1, [(run.flow, run.step) for run in runs]
    return runs[0]


async def _assert_answered(rig: TeamsRig, conversation: str, asked: int) -> None:
    """The click reached the run: the time zone is stored, the flow moved on and said so."""
    run = await _time_zone_run(rig)
    assert run.data["time_zone"] == "Europe/Berlin"
    assert run.step != "time_zone"
    assert run.status in ("waiting", "done")
    assert len(rig.texts(conversation)) > asked, "the flow's next message was delivered"


async def test_join_in_personal_chat_welcomes_and_asks_to_confirm_the_time_zone(
    teams_rig: TeamsRig,
) -> None:
    conversation, question = await _join_in_personal_chat(teams_rig)

    texts = teams_rig.texts(conversation)
    assert "You joined Pilot cohort A" in texts[0]
    assert any("**Welcome to Pilot cohort A, Alex!**" in t for t in texts), "*bold* is **bold**"
    assert find_action(question, "Yes")["title"] == "Yes, Europe/Berlin", "Teams' time zone"
    assert find_action(question, "Yes")["type"] == "Action.Execute"
    assert teams_rig.fake.of_kind("create") == [], "the stored reference was used"
    run = await _time_zone_run(teams_rig)
    assert (run.status, run.step) == ("waiting", "time_zone")


async def test_clicking_yes_with_action_submit_answers_the_join_flow(
    teams_rig: TeamsRig,
) -> None:
    conversation, question = await _join_in_personal_chat(teams_rig)
    asked = len(teams_rig.texts(conversation))
    yes = find_action(question, "Yes")

    submit = teams_rig.activity("message_action_submit.json", value=yes["data"])
    await teams_rig.send(submit)

    await _assert_answered(teams_rig, conversation, asked)


async def test_clicking_yes_with_action_execute_answers_the_join_flow(
    teams_rig: TeamsRig,
) -> None:
    conversation, question = await _join_in_personal_chat(teams_rig)
    asked = len(teams_rig.texts(conversation))
    yes = find_action(question, "Yes")
    invoke = teams_rig.activity("invoke_adaptive_card_action.json")
    invoke["value"]["action"].update(verb=yes["verb"], data=yes["data"], title=yes["title"])

    response = await teams_rig.send(invoke)

    assert (await response.json())["statusCode"] == 200
    await _assert_answered(teams_rig, conversation, asked)


async def test_a_stale_card_answer_is_refused_politely(teams_rig: TeamsRig) -> None:
    conversation, question = await _join_in_personal_chat(teams_rig)
    yes = find_action(question, "Yes")
    await teams_rig.send(teams_rig.activity("message_action_submit.json", value=yes["data"]))

    again = teams_rig.activity("message_action_submit.json", id="1763884999999", value=yes["data"])
    await teams_rig.send(again)

    assert "already answered" in teams_rig.texts(conversation)[-1]


async def test_join_by_mention_in_a_channel_dms_the_person_in_a_new_personal_chat(
    teams_rig: TeamsRig,
) -> None:
    mention = teams_rig.activity("message_channel_mention.json")
    priya = mention["from"]["id"]

    await teams_rig.send(mention)

    [created, *_] = teams_rig.fake.of_kind("create")
    assert created.body["members"] == [{"id": priya}]
    assert created.body["channelData"] == {"tenant": {"id": TENANT}}
    assert created.body["bot"]["id"] == f"28:{APP_ID}"
    personal = f"a:personal-{priya}"
    texts = teams_rig.texts(personal)
    assert any("You joined Pilot cohort A" in text for text in texts), "private, not in channel"
    assert any("Welcome to Pilot cohort A, Priya!" in text for text in texts)
    assert teams_rig.fake.messages(mention["conversation"]["id"]) == []
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        roles = await uow.cohorts.roles_by_user("teams", TENANT)
        identity = await _identity(uow, priya)
    assert roles[priya] == {"participant"}
    assert identity is not None
    assert identity.conversation_ref is None, "a channel message is no personal chat"


async def test_the_cohort_channel_is_recognised_from_a_channel_mention(
    teams_rig: TeamsRig,
) -> None:
    mention = teams_rig.activity(
        "message_channel_mention.json", text="<at>cohortbot</at> cohort members"
    )

    await teams_rig.send(mention)

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        cohort = await uow.cohorts.by_channel("teams", CHANNEL)
    assert cohort is not None
    assert cohort.key == "pilot-a"


async def test_the_personal_chat_reference_is_stored_and_used_for_later_dms(
    teams_rig: TeamsRig,
) -> None:
    hello = teams_rig.activity(PERSONAL, text="help")
    await teams_rig.send(hello)
    mention = teams_rig.activity(
        "message_channel_mention.json",
        text="<at>cohortbot</at> cohort join pilot-a",
        **{"from": hello["from"]},
    )

    await teams_rig.send(mention)

    async with unit_of_work(teams_rig.bot.sessions) as uow:
        identity = await _identity(uow, hello["from"]["id"])
    assert identity is not None
    assert identity.conversation_ref is not None
    assert identity.conversation_ref["conversation"]["id"] == hello["conversation"]["id"]
    welcome = [t for t in teams_rig.texts(hello["conversation"]["id"]) if "Welcome to" in t]
    assert welcome, "the proactive DM went to the stored personal chat"


async def test_a_member_added_to_the_team_is_offered_the_cohorts(teams_rig: TeamsRig) -> None:
    added = teams_rig.activity("conversation_update_member_added.json")
    member = added["membersAdded"][0]["id"]

    await teams_rig.send(added)

    [welcome] = teams_rig.texts(f"a:personal-{member}")
    assert "Type \u201ccohort cohorts\u201d" in welcome
    async with unit_of_work(teams_rig.bot.sessions) as uow:
        identity = await _identity(uow, member)
    assert identity is not None, "the newcomer is known to the bot"


async def test_teams_people_are_told_the_commands_they_type_in_teams(teams_rig: TeamsRig) -> None:
    message = teams_rig.activity(PERSONAL, text="cohort help frobnicate")
    await teams_rig.send(message)

    (reply,) = teams_rig.texts(message["conversation"]["id"])
    assert "Type `cohort help`" in reply
    assert "/cohort" not in reply
