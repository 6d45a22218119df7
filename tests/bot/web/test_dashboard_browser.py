"""The dashboard in headless Chromium, on a database a short simulation filled."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, expect

from bot.cli.simulation.command import database_url
from bot.cli.simulation.world import COHORT, OWNER, personas, simulation_config
from bot.config import AppConfig, load_config
from bot.runtime.clock import ManualClock
from flows.reports.kpis import KpiReport, cohort_report
from flows.reports.view import format_value
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG, SCREENSHOTS, SIMULATION, SimulatedProgram
from tests.harness import Playground, running_bot


@dataclass
class Simulated:
    config: AppConfig
    clock: ManualClock


@pytest.fixture
def simulated(tmp_path: Path, simulated_program: SimulatedProgram) -> Simulated:
    """A copy of the shared simulated program, so this test's clicks stay its own."""
    db = tmp_path / "sim.db"
    shutil.copyfile(simulated_program.db, db)
    settings = simulated_program.settings
    base = load_config(PILOT_CONFIG)
    config = simulation_config(base, settings, personas(settings), database_url(db))
    return Simulated(config, ManualClock(simulated_program.outcome.ended))


async def owner_link(playground: Playground) -> str:
    await playground.say(OWNER, "dashboard")
    text = (await playground.last_dm(OWNER))["message"]["text"]
    found = re.search(r"<(http[^|>]+)\|", text)
    assert found, text
    link = urlparse(found.group(1))
    return str(playground.http.make_url(f"{link.path}?{link.query}"))


async def the_report(playground: Playground, config: AppConfig) -> KpiReport:
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key(COHORT)
        assert cohort is not None
        return await cohort_report(
            uow,
            cohort=cohort,
            program=config.programs[SIMULATION.program],
            week=None,
            now=playground.clock.now(),
        )


async def test_dashboard_from_a_signed_link_shows_the_kpi_numbers_until_it_expires(
    browser: Browser, simulated: Simulated
) -> None:
    async with running_bot(simulated.config, clock=simulated.clock) as playground:
        url = await owner_link(playground)
        report = await the_report(playground, simulated.config)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(url)

        await expect(page.locator("h1")).to_have_text("Simulated cohort")
        for kpi in report.kpis:
            row = page.locator(f'tr[data-kpi="{kpi.key}"]')
            await expect(row.locator(".value")).to_have_text(format_value(kpi, kpi.value))
        funnel = page.locator('svg[data-chart="funnel"] g.bar')
        await expect(funnel).to_have_count(4)
        shown = [await bar.get_attribute("data-value") for bar in await funnel.all()]
        expected = report.funnel
        assert shown == [
            str(expected.invited),
            str(expected.engaged),
            str(expected.reviewed),
            str(expected.improved),
        ]
        assert expected.engaged > 0
        await expect(page.locator("svg.chart")).to_have_count(8)
        drawn = await page.locator('svg[data-chart="participation"] g.bar rect').count()
        assert drawn == SIMULATION.weeks
        box = await page.locator('svg[data-chart="funnel"]').bounding_box()
        assert box is not None
        assert box["width"] > 300
        for nudge in report.nudges:
            await expect(page.locator("#at-risk")).to_contain_text(nudge.name)

        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390

        # The same link a quarter of an hour later, and no link at all, are refused.
        playground.clock.advance(timedelta(minutes=16))
        expired = await page.goto(url)
        assert expired is not None
        assert expired.status == 403
        await expect(page.locator("#reason")).to_contain_text("has expired")
        unsigned = await page.goto(str(playground.http.make_url("/dashboard")))
        assert unsigned is not None
        assert unsigned.status == 403
        await expect(page.locator("#reason")).to_contain_text("/cohort dashboard")
