"""Emulator mode trusts loopback only: no proxies, loopback Host names, loopback serviceUrls."""

from __future__ import annotations

import logging

import pytest

from adapters.teams.app import TeamsAdapter
from adapters.teams.auth import emulator_refusal, loopback_service_url
from tests.adapters.teams.conftest import TENANT, TeamsRig

PERSONAL = "message_personal.json"


@pytest.mark.parametrize(
    "header", ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"]
)
async def test_emulator_mode_refuses_a_request_that_came_through_a_proxy(
    emulator_rig: TeamsRig, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    message = emulator_rig.activity(PERSONAL, text="help")

    response = await emulator_rig.http.post(
        "/api/messages", json=message, headers={header: "for=203.0.113.9"}
    )
    await emulator_rig.bot.settle()

    assert response.status == 403
    assert header in (await response.json())["error"]
    assert await emulator_rig.inbox_count() == 0
    assert emulator_rig.fake.calls == []
    assert [r.getMessage() for r in caplog.records] == ["teams request refused"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3978", "127.0.0.1.nip.io"])
async def test_emulator_mode_refuses_a_host_name_that_is_not_loopback(
    emulator_rig: TeamsRig, host: str
) -> None:
    message = emulator_rig.activity(PERSONAL, text="help")

    response = await emulator_rig.http.post("/api/messages", json=message, headers={"Host": host})

    assert response.status == 403
    assert await emulator_rig.inbox_count() == 0


async def test_emulator_mode_sends_nothing_to_a_service_url_off_loopback(
    emulator_rig: TeamsRig,
) -> None:
    message = emulator_rig.activity(PERSONAL, text="help", serviceUrl="http://evil.example/")

    response = await emulator_rig.http.post("/api/messages", json=message)
    await emulator_rig.bot.settle()

    assert response.status == 403
    assert "serviceUrl" in (await response.json())["error"]
    assert await emulator_rig.inbox_count() == 0
    assert emulator_rig.fake.calls == []
    teams = emulator_rig.bot.adapters["teams"]
    assert isinstance(teams, TeamsAdapter)
    assert teams.directory.service_url(TENANT) is None, "the address is not learnt"


async def test_emulator_mode_answers_a_loopback_client_on_a_loopback_name(
    emulator_rig: TeamsRig,
) -> None:
    message = emulator_rig.activity(PERSONAL, text="help")
    host = f"localhost:{emulator_rig.http.port}"

    response = await emulator_rig.http.post("/api/messages", json=message, headers={"Host": host})
    await emulator_rig.bot.settle()

    assert response.status == 200
    assert len(emulator_rig.fake.messages()) == 1


async def test_an_authenticated_bot_behind_a_proxy_still_answers(teams_rig: TeamsRig) -> None:
    message = teams_rig.activity(PERSONAL, text="help")
    headers = {
        "Authorization": teams_rig.fake.sign(),
        "X-Forwarded-For": "52.112.0.1",
        "Host": "cohortbot.example.org",
    }

    response = await teams_rig.http.post("/api/messages", json=message, headers=headers)
    await teams_rig.bot.settle()

    assert response.status == 200
    assert len(teams_rig.fake.messages()) == 1


def test_only_http_addresses_on_this_machine_are_loopback_service_urls() -> None:
    for url in ("http://127.0.0.1:3979/", "https://localhost/teams/", "http://[::1]:80/"):
        assert loopback_service_url(url), url
    for url in (
        "http://evil.example/",
        "http://127.0.0.1@evil.example/",
        "http://evil.example\\@127.0.0.1/",
        "http://127.0.0.1.nip.io/",
        "ftp://127.0.0.1/",
        "http://127.0.0.1:x/",
        "http://127.0.0.1/\n",
        "",
        None,
        5,
    ):
        assert not loopback_service_url(url), url


def test_emulator_mode_trusts_a_direct_loopback_client_only() -> None:
    direct = {"Host": "127.0.0.1:3978"}

    assert emulator_refusal(direct, "127.0.0.1") is None
    assert emulator_refusal({"Host": "[::1]:3978"}, "::1") is None
    assert emulator_refusal(direct, "192.0.2.7") is not None
    assert emulator_refusal(direct, None) is not None
    assert emulator_refusal({"Host": "evil.example"}, "127.0.0.1") is not None
    assert emulator_refusal({}, "127.0.0.1") is not None
    assert emulator_refusal({**direct, "X-Real-IP": "1.2.3.4"}, "127.0.0.1") is not None
