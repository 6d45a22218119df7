"""How the adapter configures botbuilder, learns service URLs, and classifies failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest
from botframework.connector.auth import AuthenticationConstants
from sqlalchemy import select

from adapters.teams.auth import Settings, TeamsAuth
from adapters.teams.client import Directory
from adapters.teams.errors import mapped, retry_after
from bot.config import TeamsConfig
from bot.model.ports import RecipientUnreachable
from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import APP_ID, APP_PASSWORD, TENANT, TeamsRig, running_teams_bot
from tests.fakes.bot_connector import FakeBotConnector


def test_without_overrides_botbuilder_uses_the_public_cloud() -> None:
    settings = Settings(TeamsConfig(app_id=APP_ID, app_password="x"))

    assert settings.parameterized is False
    assert not hasattr(settings, "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")


def test_any_override_fills_every_public_cloud_value_beside_it() -> None:
    settings = Settings(TeamsConfig(app_id=APP_ID, app_password="x", token_issuer="https://iss"))

    assert settings.parameterized is True
    assert settings.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://iss"
    assert settings.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == (
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    assert settings.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE == "https://api.botframework.com"
    assert settings.TO_CHANNEL_FROM_BOT_LOGIN_URL == "https://login.microsoftonline.com/"
    assert settings.OAUTH_URL == AuthenticationConstants.OAUTH_URL
    assert settings.CALLER_ID == "urn:botframework:azure"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (TeamsConfig(app_id=APP_ID), "MICROSOFT_APP_PASSWORD"),
        (
            TeamsConfig(app_id=APP_ID, app_password="x", app_type="SingleTenant"),
            "MICROSOFT_APP_TENANT_ID",
        ),
    ],
)
def test_incomplete_credentials_are_refused_with_our_variable_names(
    config: TeamsConfig, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        TeamsAuth(config)


def test_service_urls_are_learnt_per_tenant_with_the_configured_one_as_fallback() -> None:
    directory = Directory("https://smba.trafficmanager.net/teams/")
    assert directory.service_url("t1") == "https://smba.trafficmanager.net/teams/"

    directory.learn(tenant="t1", service_url="https://smba.trafficmanager.net/emea/", bot=None)
    directory.learn(tenant="t2", service_url="https://smba.trafficmanager.net/amer/", bot=None)

    assert directory.service_url("t1") == "https://smba.trafficmanager.net/emea/"
    assert directory.service_url("unknown") == "https://smba.trafficmanager.net/amer/"
    assert Directory(None).service_url("t1") is None, "emulator mode has no public default"


def _error(status: int, code: str = "", headers: dict[str, str] | None = None) -> object:
    return SimpleNamespace(
        response=SimpleNamespace(status_code=status, headers=headers or {}, text=lambda: ""),
        error=SimpleNamespace(error=SimpleNamespace(code=code)),
    )


@pytest.mark.parametrize(
    ("status", "code", "permanent", "unreachable"),
    [
        (429, "", False, False),
        (412, "PreconditionFailed", False, False),
        (502, "", False, False),
        (503, "", False, False),
        (504, "", False, False),
        (403, "ConversationBlockedByUser", True, True),
        (403, "BotNotInConversationRoster", True, True),
        (403, "Forbidden", True, False),
        (404, "ConversationNotFound", True, False),
        (400, "BadArgument", True, False),
    ],
)
def test_connector_errors_are_classified(
    status: int, code: str, permanent: bool, unreachable: bool
) -> None:
    outcome = mapped(_error(status, code))

    assert outcome.permanent is permanent
    assert isinstance(outcome, RecipientUnreachable) is unreachable


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)

    assert retry_after({"Retry-After": "7"}) == 7.0
    assert 25 <= (retry_after({"retry-after": format_datetime(later, usegmt=True)}) or 0) <= 31
    assert retry_after({}) is None
    assert mapped(_error(429, headers={"Retry-After": "3"})).retry_after == 3.0


@pytest.fixture
async def wrong_password_rig(
    sqlite_url: str, fake: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsRig]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert_file))
    environ = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "not-the-password",
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_SERVICE_URL": fake.service_url,
    }
    async for rig in running_teams_bot(sqlite_url, fake, environ):
        yield rig


async def test_refused_bot_credentials_keep_messages_waiting_for_a_retry(
    wrong_password_rig: TeamsRig,
) -> None:
    await wrong_password_rig.send(wrong_password_rig.activity("message_personal.json"))

    async with unit_of_work(wrong_password_rig.bot.sessions) as uow:
        row = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.platform == "teams")
        )
    assert row is not None
    assert row.status == "pending"
    assert row.last_error is not None
    assert "no token" in row.last_error
    assert wrong_password_rig.fake.messages() == []


@pytest.fixture
async def single_tenant_rig(
    sqlite_url: str, fake: FakeBotConnector, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsRig]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert_file))
    environ = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_SERVICE_URL": fake.service_url,
    }
    async for rig in running_teams_bot(sqlite_url, fake, environ):
        yield rig


async def test_a_single_tenant_bot_ignores_other_tenants(single_tenant_rig: TeamsRig) -> None:
    own = single_tenant_rig.activity("message_personal.json")
    other = single_tenant_rig.activity(
        "message_personal.json", id="2", channelData={"tenant": {"id": "another-tenant"}}
    )

    await single_tenant_rig.send(other)
    assert await single_tenant_rig.inbox_count() == 0

    await single_tenant_rig.send(own)
    assert await single_tenant_rig.inbox_count() == 1
    assert len(single_tenant_rig.fake.messages()) == 1
