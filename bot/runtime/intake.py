"""Inbound intake: group-committed inbox writes, then a bounded pool of processors.

Acknowledging a platform quickly needs the inbox row written, nothing more. Rows from
concurrent requests are written together in one transaction (a group commit), so the
database sees one write per batch instead of one per request, and processing runs in
a fixed number of workers so it can never starve the acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.model.events import InboundEvent
from bot.support.group_commit import GroupCommit

log = logging.getLogger(__name__)

MAX_BATCH = 500
RecordBatch = Callable[[list[InboundEvent]], Awaitable[list[int | None]]]
Process = Callable[[int, str | None], Awaitable[None]]


class Intake:
    def __init__(self, *, record: RecordBatch, process: Process, workers: int) -> None:
        self._inbox = GroupCommit(record, name="inbox", max_batch=MAX_BATCH)
        self._process = process
        self._workers = workers
        self._work: asyncio.Queue[tuple[int, str | None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._active = 0

    def _start(self) -> None:
        if not self._tasks:
            self._tasks += [asyncio.create_task(self._work_loop()) for _ in range(self._workers)]

    async def submit(self, event: InboundEvent) -> int | None:
        """Durably record the event; its inbox id, or None when it was seen before."""
        self._start()
        return await self._inbox.submit(event)

    def schedule(self, inbox_id: int, key: str | None) -> None:
        self._start()
        self._work.put_nowait((inbox_id, key))

    async def _work_loop(self) -> None:
        while True:
            inbox_id, key = await self._work.get()
            # Counted as active from the moment it leaves the queue: a worker waiting
            # below is still work in hand, and `busy` must not say otherwise meanwhile.
            self._active += 1
            try:
                # Acknowledgements first: while requests wait for their inbox row,
                # processing (which needs the same database) holds back. Nothing is lost.
                await self._inbox.idle.wait()
                await self._process(inbox_id, key)
            except Exception:
                log.exception("processing crashed", extra={"inbox_id": inbox_id})
            finally:
                self._active -= 1
                self._work.task_done()

    @property
    def busy(self) -> bool:
        return self._active > 0 or not self._work.empty() or self._inbox.pending

    async def drain(self) -> None:
        """Wait until everything submitted so far has been processed."""
        while self.busy:
            await self._work.join()
            await asyncio.sleep(0)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self._inbox.close()
