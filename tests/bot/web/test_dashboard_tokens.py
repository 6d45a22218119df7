"""Dashboard credentials of any characters: compared as bytes, never a server error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.dashboard import Dashboard
from tests.bot.web.test_dashboard_access import (
    OPERATOR,
    dashboard_client,
    link_from_dm,
    scope_echo,
    token_of,
)
from tests.harness import Playground, demo_config, running_bot

NON_ASCII_OPERATOR = "opérateur-straße-✓"


@asynccontextmanager
async def client_with_operator(
    playground: Playground, operator_token: str
) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    Dashboard(
        sessions=playground.bot.sessions,
        links=playground.bot.links,
        operator_token=operator_token,
        build=scope_echo,
        now=playground.clock.now,
    ).add_routes(app)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_a_non_ascii_bearer_token_is_refused_not_a_server_error(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with dashboard_client(playground) as client:
            response = await client.get("/dashboard", headers={"Authorization": "Bearer opérateur"})
            body = await response.text()
        assert response.status == 403
        assert "operator token is not valid" in body


async def raw_get(client: TestClient[Any, Any], path: str, header: bytes) -> bytes:
    """The status line of a GET sent with one header of raw bytes, as no client library would."""
    url = client.make_url(path)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {url.host}\r\n".encode()
        + header
        + b"\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return status


async def test_a_bearer_header_of_invalid_utf8_is_refused_not_a_server_error(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with dashboard_client(playground) as client:
            status = await raw_get(client, "/dashboard", b"Authorization: Bearer op\xe9\xff")
        assert status.startswith(b"HTTP/1.1 403")


async def test_a_non_ascii_operator_token_opens_the_dashboard_when_it_matches(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with client_with_operator(playground, NON_ASCII_OPERATOR) as client:
            good = await client.get(
                "/dashboard", headers={"Authorization": f"Bearer {NON_ASCII_OPERATOR}"}
            )
            close = await client.get(
                "/dashboard", headers={"Authorization": f"Bearer {NON_ASCII_OPERATOR[:-1]}x"}
            )
        assert good.status == 200
        assert close.status == 403


async def test_a_wrong_bearer_header_does_not_spoil_a_valid_link(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        async with dashboard_client(playground) as client:
            responses = [
                await client.get(
                    "/dashboard", params={"token": token}, headers={"Authorization": header}
                )
                for header in ("Bearer guess", "Bearer opérateur", "bearer ", "Basic Zm9vOmJhcg==")
            ]
            bodies = [await response.text() for response in responses]
        assert [response.status for response in responses] == [200, 200, 200, 200]
        assert all("<h1>cohort:pilot-a</h1>" in body for body in bodies)


async def test_the_operator_token_still_opens_every_cohort_beside_a_link(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        token = token_of(await link_from_dm(playground, "dana"))
        async with dashboard_client(playground) as client:
            response = await client.get(
                "/dashboard",
                params={"token": token},
                headers={"Authorization": f"bearer {OPERATOR}"},
            )
        assert response.status == 200


async def test_link_tokens_of_any_characters_are_refused_not_a_server_error(
    sqlite_url: str,
) -> None:
    tokens = ["é", "ÿ.abc", "opérateur.x.y", "\u2028", "%ED%B2%80", "a" * 5000]
    async with running_bot(demo_config(sqlite_url)) as playground:
        async with dashboard_client(playground) as client:
            statuses = [
                (await client.get("/dashboard", params={"token": token})).status for token in tokens
            ]
            raw = await client.get("/dashboard?token=%ED%B2%80abc.%FF%FE")
        assert statuses == [403] * len(tokens)
        assert raw.status == 403
