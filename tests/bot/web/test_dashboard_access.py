"""Who may open the dashboard: signed links from `/cohort dashboard`, or the operator token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from bot.web.dashboard import Dashboard, DashboardScope
from bot.web.dashboard_page import DashboardPage, ScopeLink
from storage.models import Membership
from storage.uow import UnitOfWork
from tests.harness import CHANNEL, Playground, demo_config, running_bot

OPERATOR = "operator-secret-for-tests"


async def scope_echo(
    _uow: UnitOfWork, scope: DashboardScope, nav: list[ScopeLink], now: datetime
) -> DashboardPage:
    """Stands in for the KPI page: shows which scope the request was allowed to see."""
    return DashboardPage(
        title=f"{scope.kind}:{scope.key}",
        subtitle=",".join(scope.cohort_keys),
        generated_at=now,
        scopes=nav,
    )


@asynccontextmanager
async def dashboard_client(playground: Playground) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    Dashboard(
        sessions=playground.bot.sessions,
        links=playground.bot.links,
        operator_token=OPERATOR,
        build=scope_echo,
        now=playground.clock.now,
    ).add_routes(app)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def link_from_dm(playground: Playground, person: str) -> str:
    await playground.say(person, "dashboard")
    text = (await playground.last_dm(person))["message"]["text"]
    found = re.search(r"<(http[^|>]+)\|", text)
    assert found, text
    return found.group(1)


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def test_facilitator_gets_a_link_by_dm_that_opens_their_cohort(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        url = await link_from_dm(playground, "dana")
        assert urlparse(url).path == "/dashboard"
        async with dashboard_client(playground) as client:
            response = await client.get("/dashboard", params={"token": token_of(url)})
            body = await response.text()
        assert response.status == 200
        assert "<h1>cohort:pilot-a</h1>" in body
        assert response.headers["Cache-Control"] == "no-store"


async def test_participant_asking_for_the_dashboard_gets_no_link(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a", channel=CHANNEL)
        await playground.say("alex", "/cohort dashboard", channel=CHANNEL)
        texts = [m["message"]["text"] for m in await playground.from_bot("alex")]
        assert any("for a cohort's facilitators" in text for text in texts)
        assert not any("/dashboard?token=" in text for text in texts)


async def test_link_is_refused_once_fifteen_minutes_have_passed(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "olivia"))
        async with dashboard_client(playground) as client:
            playground.clock.advance(timedelta(minutes=14))
            assert (await client.get("/dashboard", params={"token": token})).status == 200
            playground.clock.advance(timedelta(minutes=1))
            response = await client.get("/dashboard", params={"token": token})
            body = await response.text()
        assert response.status == 403
        assert "has expired" in body
        assert "/cohort dashboard" in body


async def test_altered_or_missing_link_is_refused(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        async with dashboard_client(playground) as client:
            altered = await client.get("/dashboard", params={"token": forged})
            missing = await client.get("/dashboard")
            missing_body = await missing.text()
        assert altered.status == 403
        assert missing.status == 403
        assert "type <code>/cohort dashboard</code>" in missing_body
        assert "`" not in missing_body


async def test_link_does_not_open_a_cohort_outside_its_holders_roles(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        async with dashboard_client(playground) as client:
            other = await client.get("/dashboard", params={"token": token, "cohort": "pilot-b"})
            program = await client.get("/dashboard", params={"token": token, "program": "pilot"})
            program_body = await program.text()
        assert other.status == 403
        assert program.status == 200
        assert "<p>pilot-a</p>" in program_body


async def test_link_stops_opening_a_cohort_after_the_holder_loses_their_role(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        async with playground.bot.sessions() as session, session.begin():
            found = await UnitOfWork(session).people.find_identity("local", "local", "dana")
            assert found is not None
            await session.execute(
                update(Membership).where(Membership.person_id == found[1].id).values(status="left")
            )
        async with dashboard_client(playground) as client:
            response = await client.get("/dashboard", params={"token": token})
        assert response.status == 403


async def test_operator_token_opens_every_cohort_and_a_wrong_one_is_refused(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with dashboard_client(playground) as client:
            good = await client.get("/dashboard", headers={"Authorization": f"Bearer {OPERATOR}"})
            good_body = await good.text()
            bad = await client.get("/dashboard", headers={"Authorization": "Bearer guess"})
        assert good.status == 200
        assert "cohort:pilot-a" in good_body
        assert bad.status == 403


async def test_links_signed_before_a_restart_still_open_after_it(database_url: str) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        first_secret = playground.bot.secret.value
    async with running_bot(config) as playground:
        assert playground.bot.secret.value == first_secret
        async with dashboard_client(playground) as client:
            response = await client.get("/dashboard", params={"token": token})
        assert response.status == 200
