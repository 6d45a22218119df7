"""What every `cohortbot` command shares: the --config option, loading it, running a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app import StartupError
from bot.cli.errors import UsageError
from bot.config import AppConfig, ConfigError, load_config

T = TypeVar("T")

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $COHORTBOT_CONFIG or ./app.yaml).",
)


def app_config(path: Path | None) -> AppConfig:
    """The configuration at `path` (or the default place); a UsageError says what is wrong."""
    try:
        return load_config(path)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` to completion; a bot that cannot start is a UsageError."""
    try:
        return asyncio.run(main())
    except StartupError as error:
        raise UsageError(f"cohortbot cannot start: {error}") from None
