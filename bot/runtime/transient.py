"""Database trouble that passes (a full disk, a lock held too long, a dropped connection).

An event whose processing meets it stays pending and is tried again by the running bot
with a bounded backoff, instead of waiting for the next start; after the last try it is
dead-lettered (marked failed, the person told), so it is visible and never stranded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[BaseException], ...] = (OperationalError, OSError, TimeoutError)
"""Errors that say the database could not do it now, not that the event is bad."""
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
RETRIES = 8
"""About two minutes of tries (0.5 s doubling, at most 30 s apart), then dead-lettered."""


def is_transient(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT)


class TransientRetries:
    """Inbox ids waiting to be tried again, each with its own backoff."""

    def __init__(
        self,
        *,
        again: Callable[[int], None],
        give_up: Callable[[int, BaseException], Awaitable[None]],
    ) -> None:
        self._again = again
        self._give_up = give_up
        self._attempts: dict[int, int] = {}
        self._waiting: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> bool:
        return bool(self._waiting or self._tasks)

    def succeeded(self, inbox_id: int) -> None:
        self._attempts.pop(inbox_id, None)

    def failed(self, inbox_id: int, error: BaseException) -> None:
        """Try `inbox_id` again later, or dead-letter it after the last try."""
        attempt = self._attempts.get(inbox_id, 0) + 1
        self._attempts[inbox_id] = attempt
        if attempt > RETRIES:
            self._attempts.pop(inbox_id, None)
            self._spawn(self._dead_letter(inbox_id, error))
            return
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempt - 1))
        log.warning(
            "event processing met a database error; trying again",
            extra={
                "inbox_id": inbox_id,
                "attempt": attempt,
                "delay": delay,
                "error": error_kind(error),
            },
        )
        self._waiting.add(inbox_id)
        asyncio.get_running_loop().call_later(delay, self._release, inbox_id)

    def _release(self, inbox_id: int) -> None:
        self._waiting.discard(inbox_id)
        self._again(inbox_id)

    async def _dead_letter(self, inbox_id: int, error: BaseException) -> None:
        try:
            await self._give_up(inbox_id, error)
        except Exception as still:
            if not is_transient(still):
                raise
            # Not even the failure can be written yet: keep trying at the longest delay.
            self._attempts[inbox_id] = RETRIES
            self.failed(inbox_id, still)
        else:
            log.error(
                "event dead-lettered after database errors",
                extra={"inbox_id": inbox_id, "error": error_kind(error)},
            )

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def error_kind(error: BaseException) -> str:
    """The error's kind only: its text may quote SQL or a person's words."""
    return type(error).__name__
