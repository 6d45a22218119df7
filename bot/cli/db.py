"""`cohortbot db upgrade` and `cohortbot db current`: the database schema."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import app_config, config_option, run_async
from storage import migrate
from storage.db import create_engine


@click.group("db")
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: Path | None) -> None:
    """Apply every pending migration."""
    config = app_config(config_path)

    async def upgrade() -> str | None:
        engine = create_engine(config.storage.url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    revision = run_async(upgrade)
    click.echo(f"Database is at revision {revision}.")


@db.command("current")
@config_option
def db_current(config_path: Path | None) -> None:
    """Show the schema revision of the database and the latest one."""
    config = app_config(config_path)

    async def current() -> str | None:
        engine = create_engine(config.storage.url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    revision = run_async(current)
    click.echo(f"current: {revision or 'empty database'}; latest: {migrate.head_revision()}")
