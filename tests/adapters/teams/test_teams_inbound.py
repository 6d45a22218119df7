"""POST /api/messages through real botbuilder: authentication, acknowledgement, replies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.teams.app import TeamsAdapter
from bot.config import TeamsConfig
from bot.model.events import InboundEvent
from bot.runtime.clock import ManualClock
from tests.adapters.teams.conftest import APP_ID, TeamsRig, card_text
from tests.fakes.bot_connector import FakeBotConnector, new_key
from tests.harness import START

PERSONAL = "message_personal.json"


async def test_emulator_mode_greets_the_person_who_installs_the_bot(
    emulator_rig: TeamsRig,
) -> None:
    installed = emulator_rig.activity("conversation_update_bot_added.json")

    response = await emulator_rig.send(installed)

    assert response.status == 200
    conversation = installed["conversation"]["id"]
    [greeting] = emulator_rig.texts(conversation)
    assert "Hi, I'm cohortbot" in greeting
    assert "Type \u201chelp\u201d" in greeting
    assert emulator_rig.fake.calls[0].authorization == "", "emulator mode sends no token"


async def test_emulator_mode_answers_help_with_the_command_list(emulator_rig: TeamsRig) -> None:
    message = emulator_rig.activity(PERSONAL, text="help")

    await emulator_rig.send(message)

    [answer] = emulator_rig.texts(message["conversation"]["id"])
    assert "Here's what you can ask me" in answer
    for command in ("help", "join", "cohorts"):
        assert command in answer


def test_emulator_mode_is_refused_off_loopback() -> None:
    async def sink(_event: InboundEvent) -> bool:
        return True

    with pytest.raises(ValueError, match="emulator mode"):
        TeamsAdapter(TeamsConfig(), sink=sink, clock=ManualClock(START), loopback=False)


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(
    teams_rig: TeamsRig,
) -> None:
    message = teams_rig.activity(PERSONAL, text="help")

    await teams_rig.send(message)

    assert await teams_rig.inbox_count() == 1
    [reply] = teams_rig.fake.messages(message["conversation"]["id"])
    assert reply.authorization == f"Bearer {teams_rig.fake.issued_token}"
    assert "Here's what you can ask me" in card_text(reply.body)
    assert teams_rig.fake.token_requests[0]["client_id"] == APP_ID


def _forged(fake: FakeBotConnector) -> str:
    return fake.sign(key=new_key())


@pytest.mark.parametrize(
    ("case", "header"),
    [
        ("missing", lambda fake: None),
        ("not a bearer token", lambda fake: "Basic dXNlcjpwYXNz"),
        ("garbage", lambda fake: "Bearer not-a-jwt"),
        ("forged with another key", _forged),
        ("unknown key id", lambda fake: fake.sign(key=new_key(), kid="someone-elses-key")),
        ("expired", lambda fake: fake.sign(expires_in=-3600)),
        ("wrong audience", lambda fake: fake.sign(audience="another-bots-app-id")),
        ("wrong issuer", lambda fake: fake.sign(issuer="https://evil.example.com")),
        ("another service url", lambda fake: fake.sign(service_url="https://evil.example.com/")),
    ],
)
async def test_an_unauthenticated_request_gets_401_and_nothing_is_recorded(
    teams_rig: TeamsRig, case: str, header: Callable[[FakeBotConnector], str | None]
) -> None:
    message = teams_rig.activity(PERSONAL, text="help")
    auth = header(teams_rig.fake)

    response = await teams_rig.post(message, auth=auth)
    await teams_rig.bot.settle()

    assert response.status == 401, case
    assert await teams_rig.inbox_count() == 0
    assert teams_rig.fake.messages() == []


async def test_a_resent_activity_is_acknowledged_and_answered_once(teams_rig: TeamsRig) -> None:
    message = teams_rig.activity(PERSONAL, text="help")

    for _ in range(3):
        await teams_rig.send(message)

    assert await teams_rig.inbox_count() == 1
    assert len(teams_rig.fake.messages()) == 1


async def test_a_card_action_invoke_is_answered_at_once_with_an_invoke_response(
    teams_rig: TeamsRig,
) -> None:
    invoke = teams_rig.activity("invoke_adaptive_card_action.json")

    response = await teams_rig.post(invoke)

    assert response.status == 200
    assert await response.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Got it.",
    }
    assert await teams_rig.inbox_count() == 1, "recorded before the answer"
    assert teams_rig.fake.messages() == [], "processing happens after the answer"


async def test_an_invoke_the_bot_does_not_use_still_gets_a_200(teams_rig: TeamsRig) -> None:
    invoke = teams_rig.activity("invoke_adaptive_card_action.json", name="config/fetch")

    response = await teams_rig.post(invoke)

    assert response.status == 200
    assert await teams_rig.inbox_count() == 0


@pytest.mark.parametrize(
    "body",
    [["not", "an", "activity"], {"text": "no type"}, {"type": "message", "timestamp": "soon"}],
)
async def test_a_body_that_is_not_an_activity_is_a_400(teams_rig: TeamsRig, body: object) -> None:
    response = await teams_rig.http.post(
        "/api/messages", json=body, headers={"Authorization": teams_rig.fake.sign()}
    )

    assert response.status == 400
    assert await teams_rig.inbox_count() == 0
