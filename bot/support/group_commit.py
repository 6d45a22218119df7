"""Group commit: items submitted at about the same time are written in one transaction.

SQLite has one writer, and every transaction costs a turn on it. When many callers
each need a short write at once (inbox rows for a burst of requests, the outcomes of
sends finishing together), one writer task takes everything waiting and writes it in
one go; each caller still returns only once its own item is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[list[Item]], Awaitable[list[Result]]],
        *,
        name: str,
        max_batch: int = 500,
    ) -> None:
        self._write = write
        self._name = name
        self._max_batch = max_batch
        self._waiting: asyncio.Queue[tuple[Item, asyncio.Future[Result]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()
        """Set while nothing is waiting to be written."""
        self.idle.set()

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; returns once it is committed."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.idle.clear()
        self._waiting.put_nowait((item, done))
        if self._task is None or self._task.done():
            # The writer runs while there is something to write, so nothing lingers after.
            self._task = asyncio.create_task(self._write_loop())
        return await done

    @property
    def pending(self) -> bool:
        """Whether anything submitted is not yet written."""
        return not self.idle.is_set()

    async def _write_loop(self) -> None:
        while not self._waiting.empty():
            batch = [self._waiting.get_nowait()]
            while not self._waiting.empty() and len(batch) < self._max_batch:
                batch.append(self._waiting.get_nowait())
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as error:
                log.exception(
                    "group write failed", extra={"writer": self._name, "batch": len(batch)}
                )
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)
            if self._waiting.empty():
                self.idle.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
