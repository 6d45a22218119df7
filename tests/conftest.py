"""Shared fixtures: databases (SQLite always, PostgreSQL where TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
SCREENSHOTS = REPO_ROOT / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true" and not POSTGRES_URL:
        raise pytest.UsageError("CI=true needs TEST_POSTGRES_URL: PostgreSQL tests must run in CI")


async def reset_postgres(url: str) -> None:
    """An empty public schema, so every test starts from migrations."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each storage test runs on the embedded SQLite default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cohortbot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    await reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cohortbot.db'}"


@pytest.fixture
async def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless chromium through Playwright; no browser is ever downloaded."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Debian's chromium for the browser tests (make browser)")
        pytest.skip("chromium is not installed (make browser installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield launched
        await launched.close()
