"""Only the playground's own page may use it: its host names, its origin, its secret, JSON."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from adapters.local.guard import SECRET_HEADER, TOKEN_HEADER, HostPolicy, PageSecrets, cookie_name
from storage.models import InboxEvent, OutboxMessage
from storage.uow import unit_of_work
from tests.adapters.local.raw_http import RawClient, raw_client
from tests.harness import PAGE_SECRET, Playground, demo_config, running_bot

JSON = {"Content-Type": "application/json"}
SAY = '{"person": "alex", "where": "dm", "text": "/cohort join pilot-a"}'
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:3978",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "127.0.0.1:80@evil.example",
    "",
    "[::1",
]
ROUTES = [
    ("GET", "/"),
    ("GET", "/playground.js"),
    ("GET", "/playground.css"),
    ("GET", "/playground/api/state"),
    ("GET", "/playground/api/feed?person=alex"),
    ("POST", "/playground/api/say"),
    ("POST", "/playground/api/action"),
    ("POST", "/playground/api/form"),
    ("POST", "/playground/api/flag"),
]


async def stored(playground: Playground) -> tuple[int, int, int]:
    """Inbox rows, outbox rows and transcript entries: what a refused request must not add."""
    async with unit_of_work(playground.bot.sessions) as uow:
        inbox = await uow.session.scalar(select(func.count(InboxEvent.id)))
        outbox = await uow.session.scalar(select(func.count(OutboxMessage.id)))
    assert playground.bot.local is not None
    return int(inbox or 0), int(outbox or 0), len(playground.bot.local.transcript.entries)


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "playground request refused"]


async def test_the_page_names_its_secret_and_sets_it_in_a_strict_same_site_cookie(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        page = await raw.send("GET", "/")

        found = PAGE_SECRET.search(page.body)
        assert page.status == 200
        assert found
        cookie = page.headers["Set-Cookie"]
        assert cookie.startswith(f"{cookie_name(raw.host)}={found.group(1)};")
        assert re.search(r"SameSite=Strict", cookie, re.I)
        assert re.search(r"HttpOnly", cookie, re.I)
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Cache-Control"] == "no-store"


async def test_a_browser_keeps_its_secret_in_every_tab_and_a_forged_cookie_gets_a_new_one(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        mine = raw.page_headers(playground)
        second_tab = await raw.send("GET", "/", headers={"Cookie": mine["Cookie"]})
        forged = f"{'0' * 32}.{'0' * 64}"
        with_forged = await raw.send(
            "GET", "/", headers={"Cookie": f"{cookie_name(raw.host)}={forged}"}
        )

        assert PAGE_SECRET.findall(second_tab.body) == [mine[SECRET_HEADER]]
        assert PAGE_SECRET.findall(with_forged.body) not in ([forged], [mine[SECRET_HEADER]])


def without_the_pages_secret(raw: RawClient, playground: Playground) -> dict[str, dict[str, str]]:
    """Headers that do not prove the request comes from this playground's page."""
    mine = raw.page_headers(playground)
    name = cookie_name(raw.host)
    forged = f"{'a' * 32}.{'b' * 64}"
    foreign = PageSecrets(lambda: "another server's key").issue()
    return {
        "nothing": {},
        "the header alone": {SECRET_HEADER: mine[SECRET_HEADER]},
        "the cookie alone": {"Cookie": mine["Cookie"]},
        "a header unlike the cookie": {**mine, SECRET_HEADER: foreign},
        "a forged pair": {SECRET_HEADER: forged, "Cookie": f"{name}={forged}"},
        "another server's pair": {SECRET_HEADER: foreign, "Cookie": f"{name}={foreign}"},
        "the cookie of another port": {**mine, "Cookie": f"{name}0={mine[SECRET_HEADER]}"},
        "a token for a secret": {TOKEN_HEADER: mine[SECRET_HEADER], "Cookie": mine["Cookie"]},
    }


async def test_an_api_call_without_the_pages_secret_is_refused_even_on_loopback(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        answers = {}
        for case, headers in without_the_pages_secret(raw, playground).items():
            feed = await raw.send("GET", "/playground/api/feed?person=alex", headers=headers)
            sent = {**JSON, **headers}
            say = await raw.send("POST", "/playground/api/say", data=SAY, headers=sent)
            answers[case] = (feed.status, say.status)

        assert set(answers.values()) == {(403, 403)}, answers
        assert "reload the page" in say.body["error"]
        assert await stored(playground) == (0, 0, 0)
        assert len(refusals(caplog)) == 2 * len(answers)
        assert "Traceback" not in caplog.text


async def test_the_page_secret_and_its_cookie_let_the_page_say_something(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        headers = {**JSON, **raw.page_headers(playground)}
        answer = await raw.send("POST", "/playground/api/say", data=SAY, headers=headers)
        await playground.bot.settle()

        assert answer.status == 200, answer.body
        assert (await stored(playground))[0] == 1


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_a_post_that_is_not_json_is_refused_unread_even_with_the_secret(
    sqlite_url: str, content_type: str | None
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        headers = raw.page_headers(playground)
        if content_type:
            headers["Content-Type"] = content_type
        answer = await raw.send("POST", "/playground/api/say", data=SAY.encode(), headers=headers)

        assert answer.status == 403
        assert "application/json" in answer.body["error"]
        assert await stored(playground) == (0, 0, 0)


async def test_a_foreign_host_name_is_refused_on_every_playground_route(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        answers = {}
        for host in FOREIGN_HOSTS:
            for method, path in ROUTES:
                headers = {**raw.page_headers(playground), **JSON, "Host": host}
                body = SAY if method == "POST" else None
                answer = await raw.send(method, path, data=body, headers=headers)
                answers[(host, path)] = answer.status
                assert "host name" in answer.body["error"]

        assert set(answers.values()) == {403}, answers
        assert await stored(playground) == (0, 0, 0)
        assert len(refusals(caplog)) == len(answers)


async def test_loopback_names_reach_the_page(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        port = raw.host.rpartition(":")[2]
        for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}", "127.0.0.1"):
            answer = await raw.send("GET", "/", headers={"Host": host})
            assert answer.status == 200, host


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:1", "http://localhost", "null", "://"]
)
async def test_a_call_from_another_origin_is_refused(sqlite_url: str, origin: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        headers = {**raw.page_headers(playground), **JSON, "Origin": origin}
        answer = await raw.send("POST", "/playground/api/say", data=SAY, headers=headers)
        own = await raw.send(
            "GET",
            "/playground/api/state",
            headers={**raw.page_headers(playground), "Origin": f"http://{raw.host}"},
        )

        assert answer.status == 403
        assert "its own page" in answer.body["error"]
        assert own.status == 200
        assert await stored(playground) == (0, 0, 0)


async def test_the_token_is_read_from_its_header_on_writes_never_from_the_url(
    sqlite_url: str,
) -> None:
    config = demo_config(sqlite_url, COHORTBOT_PLAYGROUND_TOKEN="s3cret")
    async with running_bot(config) as playground, raw_client(playground) as raw:
        page = raw.page_headers(playground)
        no_page = await raw.send("GET", "/")
        in_the_url = await raw.send(
            "POST", "/playground/api/say?token=s3cret", data=SAY, headers={**JSON, **page}
        )
        wrong = await raw.send(
            "POST", "/playground/api/say", data=SAY, headers={**JSON, **page, TOKEN_HEADER: "x"}
        )
        read_by_url = await raw.send("GET", "/playground/api/state?token=s3cret", headers=page)
        page_by_url = await raw.send("GET", "/?token=s3cret")
        with_token = {**JSON, **page, TOKEN_HEADER: "s3cret"}
        written = await raw.send("POST", "/playground/api/say", data=SAY, headers=with_token)

        assert no_page.status == 401
        assert in_the_url.status == 401
        assert TOKEN_HEADER in in_the_url.body["error"]
        assert wrong.status == 401
        assert read_by_url.status == 200
        assert page_by_url.status == 200
        assert written.status == 200


async def test_a_refusal_is_one_warning_with_a_json_error_and_no_traceback(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(demo_config(sqlite_url)) as playground, raw_client(playground) as raw:
        caplog.clear()
        answer = await raw.send("POST", "/playground/api/say", data=SAY, headers=JSON)

        assert answer.status == 403
        assert answer.headers["Content-Type"].startswith("application/json")
        assert set(answer.body) == {"error"}
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == ["playground request refused"]
        assert warnings[0].exc_info is None
        assert "Traceback" not in caplog.text


def test_loopback_names_are_always_allowed_and_other_names_only_when_configured() -> None:
    loopback = HostPolicy.for_server("127.0.0.1")
    public = HostPolicy.for_server("127.0.0.1", "https://cohortbot.example.org/base")
    everywhere = HostPolicy.for_server("0.0.0.0")  # noqa: S104 - a policy, nothing is bound
    named = HostPolicy.for_server("bot.internal")

    for host in ("localhost", "localhost:3978", "127.0.0.1:3978", "127.0.0.2", "[::1]:3978"):
        assert loopback.allows(host), host
    for host in ("evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "", None, "a b"):
        assert not loopback.allows(host), host
    assert public.allows("cohortbot.example.org")
    assert public.allows("COHORTBOT.example.org:443")
    assert not public.allows("example.org")
    assert public.same_origin("https://cohortbot.example.org", "127.0.0.1:3978"), "a proxy"
    assert not loopback.same_origin("https://cohortbot.example.org", "127.0.0.1:3978")
    assert loopback.same_origin(None, "127.0.0.1:3978"), "navigations send no Origin"
    assert everywhere.allows("192.0.2.10:3978")
    assert everywhere.allows("[2001:db8::1]:3978")
    assert not everywhere.allows("evil.example:3978"), "a name could be rebound"
    assert named.allows("bot.internal:3978")
    assert not named.allows("192.0.2.10")
