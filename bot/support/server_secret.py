"""The server's signing secret: from COHORTBOT_SECRET_KEY, else generated once and stored."""

from __future__ import annotations

import secrets
from datetime import datetime

from storage.uow import UnitOfWork

SETTING_KEY = "server.secret_key"


class ServerSecret:
    """Loaded at start-up; every replica on one database signs with the same key."""

    def __init__(self, configured: str | None) -> None:
        self._value = configured

    async def load(self, uow: UnitOfWork, *, now: datetime) -> None:
        if self._value is None:
            self._value = await uow.settings.get_or_create(
                SETTING_KEY, make=lambda: secrets.token_urlsafe(32), now=now
            )

    @property
    def value(self) -> str:
        if self._value is None:
            raise RuntimeError("the server secret is read before the bot has started")
        return self._value
