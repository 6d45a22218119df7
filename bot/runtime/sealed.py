"""Secret button values (anonymous votes) kept in memory, never in the inbox.

An event is written to the inbox before it is acknowledged, and a row with a person's id
next to the option they chose would link the two until it is redacted (and in the
SQLite WAL for a while after). So a sealed value is swapped for a random one-time token
before the write, and the token is redeemed when the event is processed. A token whose
value was lost with a restart redeems to nothing: the person is asked to click again.
"""

from __future__ import annotations

import secrets

from bot.model.events import ActionInvoked, InboundEvent
from bot.model.messages import SEALED

MAX_HELD = 100_000
"""Values held at once; beyond it the oldest are dropped (their clicks are asked again)."""


class SealedValues:
    def __init__(self) -> None:
        self._held: dict[str, str] = {}

    def seal(self, event: InboundEvent) -> InboundEvent:
        """`event` with a sealed button value replaced by a one-time token."""
        if not isinstance(event, ActionInvoked) or not event.value.startswith(SEALED):
            return event
        token = secrets.token_urlsafe(16)
        if len(self._held) >= MAX_HELD:
            self._held.pop(next(iter(self._held)))
        self._held[token] = event.value.removeprefix(SEALED)
        return event.model_copy(update={"value": f"{SEALED}{token}"})

    def open(self, event: ActionInvoked) -> ActionInvoked | None:
        """`event` with its value back; None when the value is gone (a restart)."""
        if not event.value.startswith(SEALED):
            return event
        value = self._held.get(event.value.removeprefix(SEALED))
        return None if value is None else event.model_copy(update={"value": value})

    def forget(self, event: InboundEvent) -> None:
        """Drop the value of a processed event (kept until then for retries)."""
        if isinstance(event, ActionInvoked) and event.value.startswith(SEALED):
            self._held.pop(event.value.removeprefix(SEALED), None)
