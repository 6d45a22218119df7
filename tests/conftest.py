"""Shared fixtures: databases (SQLite always, PostgreSQL where TEST_POSTGRES_URL is set).

Most tests get a copy of one SQLite database migrated once per test process, so
Alembic runs once, not once per test. Tests of storage itself and of concurrency
take `both_databases_url`: an empty database on SQLite and on PostgreSQL. Each test
process uses a PostgreSQL database of its own, so runs and workers never collide.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli.simulation.command import database_url as simulation_url
from bot.cli.simulation.command import simulate
from bot.cli.simulation.run import Outcome
from bot.cli.simulation.world import Settings
from bot.config import load_config
from storage import migrate
from storage.db import create_engine

SERVER_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
POSTGRES_DATABASE = f"cohortbot_test_{os.getpid()}"
POSTGRES_URL = (
    make_url(SERVER_POSTGRES_URL).set(database=POSTGRES_DATABASE).render_as_string(False)
    if SERVER_POSTGRES_URL
    else ""
)
"""This test process's own database on the server TEST_POSTGRES_URL names."""
REPO_ROOT = Path(__file__).resolve().parent.parent
PILOT_CONFIG = Path(__file__).resolve().parent / "pilot.yaml"
"""The tests' own app.yaml: the shipped demo can change without breaking tests."""
CHROMIUM = shutil.which("chromium")
SCREENSHOTS = REPO_ROOT / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true" and not POSTGRES_URL:
        raise pytest.UsageError("CI=true needs TEST_POSTGRES_URL: PostgreSQL tests must run in CI")


async def _on_server(statement: str) -> None:
    engine = create_async_engine(SERVER_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


# Session fixtures are plain functions that run their own event loop: each test has its own.
@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """Creates this process's PostgreSQL database on first use and drops it at the end."""
    if not SERVER_POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    try:
        asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}"'))
        asyncio.run(_on_server(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    yield POSTGRES_URL
    asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database at the migrations' head, made once per test process."""
    path = tmp_path_factory.mktemp("template") / "cohortbot.db"

    async def upgrade() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    return path


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
def both_databases_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on the embedded SQLite default, then on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cohortbot.db'}"
    url: str = request.getfixturevalue("postgres_database")  # skips without PostgreSQL
    asyncio.run(reset_postgres(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_template: Path) -> str:
    """A fresh SQLite database, already migrated: a copy of the template."""
    path = tmp_path / "cohortbot.db"
    shutil.copy(migrated_sqlite_template, path)  # with its owner-only mode, as the bot makes it
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite database with no schema at all, for tests of migrating itself."""
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The database a flow or adapter test runs the bot on: SQLite, migrated."""
    return sqlite_url


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """This process's PostgreSQL database, emptied."""
    asyncio.run(reset_postgres(postgres_database))
    return postgres_database


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


SIMULATION = Settings(participants=8, weeks=3, seed=4, response_rate=0.8)


@dataclass(frozen=True)
class SimulatedProgram:
    """A whole program run once by `cohortbot simulate`; tests only read what it left."""

    db: Path
    url: str
    settings: Settings
    outcome: Outcome
    progress: list[float]


@pytest.fixture(scope="session")
def simulated_program(tmp_path_factory: pytest.TempPathFactory) -> SimulatedProgram:
    """Three simulated weeks of eight people, shared by every test that reads a simulation."""
    db = tmp_path_factory.mktemp("simulation") / "sim.db"
    url = simulation_url(db)
    shares: list[float] = []
    outcome = asyncio.run(
        simulate(load_config(PILOT_CONFIG), SIMULATION, db_url=url, progress=shares.append)
    )
    return SimulatedProgram(db, url, SIMULATION, outcome, shares)
