"""The key of anonymous polls' voter tokens: configured, or generated once and kept in a file.

The key lives outside the database on purpose: with it, a person's token could be
recomputed, so whoever reads only the database must not find it there.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.config.app import AppConfig

DEFAULT_FILE = ".cohortbot-poll-secret"
_SQLITE = "sqlite+aiosqlite:///"


def secret_file(config: AppConfig) -> Path:
    """Where a generated key is kept: the configured file, beside SQLite's, or the cwd."""
    if config.server.poll_secret_file:
        return Path(config.server.poll_secret_file)
    url = config.storage.url
    database = url.removeprefix(_SQLITE).partition("?")[0] if url.startswith(_SQLITE) else ""
    if database and database != ":memory:":
        path = Path(database)
        return path.with_name(path.name + ".poll-secret")
    return Path(DEFAULT_FILE)


def read_or_create(path: Path) -> str:
    """The key in `path`, created (readable by the owner only) when the file is missing."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
        if len(value) < 16:
            raise ValueError(f"{path} does not hold a poll secret; delete it or fix it") from None
        return value
    value = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(value + "\n")
    return value


def with_poll_secret(config: AppConfig) -> AppConfig:
    """The config with `server.poll_secret` always set."""
    if config.server.poll_secret:
        return config
    secret = read_or_create(secret_file(config))
    server = config.server.model_copy(update={"poll_secret": secret})
    return config.model_copy(update={"server": server})
