"""The playground in headless Chromium: a participant joins and answers by clicking."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect
from sqlalchemy import select

from storage.models import FlowRun
from tests.adapters.local.test_playground_guard import stored
from tests.conftest import SCREENSHOTS
from tests.flows.escalation.escalation_helpers import flag, rude_message
from tests.harness import CHANNEL, demo_config, running_bot


async def test_participant_joins_and_answers_onboarding_in_the_browser(
    browser: Browser, sqlite_url: str
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        playground.bot.start_background()
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(str(playground.http.make_url("/#person=alex")))

        await expect(page.locator("#person-picker")).to_have_value("alex")
        await page.fill("#channel-input", "/cohort join pilot-a")
        await page.press("#channel-input", "Enter")

        dm_pane = page.locator("#dm-pane")
        await expect(dm_pane.get_by_text("Welcome to Pilot cohort A, Alex!")).to_be_visible()
        await expect(
            page.locator("#channel-pane .ephemeral", has_text="You joined")
        ).to_be_visible()
        await dm_pane.locator("button.action", has_text="Yes").click()
        await expect(dm_pane.get_by_text("What is your main area of knowledge?")).to_be_visible()
        await page.fill("#dm-input", "Product design")
        await page.press("#dm-input", "Enter")
        strengths = dm_pane.locator(".message").last
        await expect(strengths).to_contain_text("strong in")
        await strengths.get_by_label("presenting").check()
        await strengths.locator("button.action").click()
        await expect(dm_pane.get_by_text("Which skills do you want to build")).to_be_visible()

        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "playground-join.png"), full_page=True)
        async with playground.bot.sessions() as session:
            run = await session.scalar(select(FlowRun))
        assert run is not None
        assert run.data["strengths"] == ["presenting"]


async def test_facilitator_view_shows_roles_and_help_on_a_phone(
    browser: Browser, sqlite_url: str
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        playground.bot.start_background()
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(str(playground.http.make_url("/#person=dana")))

        await expect(page.locator("#person-picker option:checked")).to_contain_text("facilitator")
        await page.fill("#dm-input", "help")
        await page.press("#dm-input", "Enter")

        await expect(page.locator("#dm-pane")).to_contain_text("/cohort members [cohort]")
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "playground-phone.png"))


async def test_a_moderator_opens_the_flagged_message_from_the_ping(
    browser: Browser, sqlite_url: str
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("jordan", "/cohort join pilot-a")
        flagged = await rude_message(playground)
        await flag(playground, "jordan", flagged, note="#conduct please look")
        playground.bot.start_background()
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(str(playground.http.make_url("/#person=sam")))

        await page.locator("#dm-pane a.message-link", has_text="Open the message").click()

        shown = page.locator(f'#channel-pane article.message[data-id="{flagged["id"]}"]')
        await expect(shown).to_have_class(re.compile(r"\bhighlight\b"))
        await expect(shown).to_contain_text("nobody here knows what they are doing")
        await expect(shown).to_be_in_viewport()


async def test_the_neutral_markup_shows_as_formatting_not_characters(
    browser: Browser, sqlite_url: str
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say(
            "alex",
            "*bold* _really_ ~gone~ `code` <https://example.org/x|the talk>\n> quoted line",
            channel=CHANNEL,
        )
        playground.bot.start_background()
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(str(playground.http.make_url("/#person=jordan")))

        body = page.locator("#channel-pane article.message", has_text="quoted line").locator(
            ".body"
        )
        await expect(body.locator("strong")).to_have_text("bold")
        await expect(body.locator("em")).to_have_text("really")
        await expect(body.locator("s")).to_have_text("gone")
        await expect(body.locator("code")).to_have_text("code")
        await expect(body.locator("a")).to_have_attribute("href", "https://example.org/x")
        await expect(body.locator("blockquote")).to_have_text("quoted line")
        assert not re.search(r"[*_~`<>]", await body.inner_text())


ATTACK = """
async (target) => {
  const body = JSON.stringify({person: "alex", where: "dm", text: "/cohort join pilot-a"});
  const tries = [
    fetch(target, {method: "POST", mode: "no-cors", credentials: "include", body,
                   headers: {"Content-Type": "text/plain"}}),
    fetch(target, {method: "POST", mode: "no-cors", credentials: "include", body}),
    fetch(target, {method: "POST", credentials: "include", body,
                   headers: {"Content-Type": "application/json"}}),
  ];
  return (await Promise.allSettled(tries)).map((t) => t.status);
}
"""


async def test_a_page_on_another_origin_cannot_make_the_browser_say_anything(
    browser: Browser, sqlite_url: str
) -> None:
    async def cats(_request: web.Request) -> web.Response:
        return web.Response(text="<p>cats</p>", content_type="text/html")

    evil = web.Application()
    evil.router.add_get("/", cats)
    site = TestServer(evil, host="127.0.0.1", port=0)
    await site.start_server()
    try:
        async with running_bot(demo_config(sqlite_url)) as playground:
            page = await browser.new_page()
            await page.goto(str(playground.http.make_url("/#person=alex")))
            await expect(page.locator("#person-picker")).to_have_value("alex")
            await page.goto(str(site.make_url("/")))

            target = str(playground.http.make_url("/playground/api/say"))
            settled = await page.evaluate(ATTACK, target)
            await playground.bot.settle()

            assert "fulfilled" in settled, "the browser did send the requests"
            assert await stored(playground) == (0, 0, 0)
    finally:
        await site.close()
