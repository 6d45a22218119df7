"""Finding Slack users by email through the real slack_sdk client and the fake Web API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import LOOKUP_ATTEMPTS, SlackClient
from bot.model.ports import DirectoryUnavailable, PlatformUser, UserDirectory, UserNotFound
from tests.fakes.slack_api import TEAM, FakeSlack, Scripted


@dataclass
class Waits:
    """Stands in for asyncio.sleep: records how long the client chose to wait."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.seconds.append(delay)


@dataclass
class Rig:
    slack: FakeSlack
    client: SlackClient
    waits: Waits


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    fake = FakeSlack()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    web = AsyncWebClient(token="xoxb-test", base_url=str(server.make_url("/api/")))
    waits = Waits()
    try:
        yield Rig(fake, SlackClient(web, sleep=waits), waits)
    finally:
        await server.close()


async def test_a_member_is_found_with_name_time_zone_and_team(rig: Rig) -> None:
    rig.slack.add_user("U0ALEX", "alex@example.com", name="Alex Schneider", tz="Europe/Berlin")

    user = await rig.client.lookup_by_email("Alex@Example.com")

    assert isinstance(rig.client, UserDirectory)
    assert user == PlatformUser(
        user_id="U0ALEX",
        workspace=TEAM,
        display_name="Alex Schneider",
        time_zone="Europe/Berlin",
        email="alex@example.com",
    )
    assert rig.slack.called("users.lookupByEmail") == [{"email": "Alex@Example.com"}]


async def test_an_unknown_email_is_not_found_with_the_reason(rig: Rig) -> None:
    with pytest.raises(UserNotFound) as missing:
        await rig.client.lookup_by_email("ghost@example.com")

    assert missing.value.reason == "no Slack user with this email"


async def test_a_rate_limit_is_waited_out_for_its_retry_after(rig: Rig) -> None:
    rig.slack.add_user("U0PRIYA", "priya@example.com", name="Priya Raman")
    rig.slack.fail_next(
        "users.lookupByEmail",
        Scripted(status=429, error="ratelimited", retry_after=7),
        Scripted(status=429, error="ratelimited", retry_after=3),
    )

    user = await rig.client.lookup_by_email("priya@example.com")

    assert user.user_id == "U0PRIYA"
    assert rig.waits.seconds == [7.0, 3.0]


async def test_endless_rate_limits_make_the_directory_unavailable(rig: Rig) -> None:
    rig.slack.fail_next(
        "users.lookupByEmail",
        *[Scripted(status=429, retry_after=2) for _ in range(LOOKUP_ATTEMPTS)],
    )

    with pytest.raises(DirectoryUnavailable, match="ratelimited on 5 tries in a row"):
        await rig.client.lookup_by_email("priya@example.com")
    assert rig.waits.seconds == [2.0] * (LOOKUP_ATTEMPTS - 1)


async def test_a_missing_scope_stops_lookups_with_what_to_fix(rig: Rig) -> None:
    rig.slack.fail_next("users.lookupByEmail", Scripted(status=200, error="missing_scope"))

    with pytest.raises(DirectoryUnavailable, match=r"users:read\.email"):
        await rig.client.lookup_by_email("alex@example.com")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"deleted": True}, "the Slack account with this email is deactivated"),
        ({"is_bot": True}, "this email belongs to a Slack app, not a person"),
    ],
)
async def test_accounts_that_are_not_people_are_not_matched(
    rig: Rig, extra: dict[str, bool], reason: str
) -> None:
    rig.slack.add_user("U0GONE", "gone@example.com", name="Gone", **extra)

    with pytest.raises(UserNotFound) as missing:
        await rig.client.lookup_by_email("gone@example.com")

    assert missing.value.reason == reason
