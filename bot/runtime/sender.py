"""The sender: drains the outbox under each platform's rate limits.

Order is kept per lane (a channel, or a person's DM): a lane's messages go out one after
another, and a message waiting for a retry holds back the ones queued after it. 429s
wait for Retry-After, transient failures back off exponentially with jitter, permanent
failures are dead-lettered where moderators can see them. Updates to a message not yet
sent wait behind it in the same lane; several pending updates of one message coalesce.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import SenderConfig
from bot.model.messages import Delivery, Message, Target
from bot.model.ports import DeliveryError, PlatformClient
from bot.runtime.backoff import backoff_seconds
from bot.runtime.clock import Clock
from bot.runtime.effects import THREAD_KEY
from bot.runtime.ratelimit import WindowLimiter
from bot.support.metrics import Metrics
from storage.db import SessionFactory
from storage.leader import LeaderLock
from storage.models import OutboxMessage
from storage.statuses import OutboxStatus
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class Outcome:
    outbox_id: int
    status: str
    platform_ref: str | None = None
    error: str | None = None
    retry_at: datetime | None = None
    unreachable: bool = False


class Sender:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        clients: Mapping[str, PlatformClient],
        config: SenderConfig,
        metrics: Metrics,
        rng: random.Random | None = None,
        leader: LeaderLock | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._clients = dict(clients)
        self._config = config
        self._metrics = metrics
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._leader = leader
        self._lane_limits = {
            name: WindowLimiter(client.limits.per_lane) for name, client in clients.items()
        }
        self._workspace_limits = {
            name: WindowLimiter(client.limits.per_workspace) for name, client in clients.items()
        }
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight = 0
        self._held: dict[str, datetime] = {}
        self._held_workspaces: dict[str, datetime] = {}
        self.next_wake: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Drain until stopped; sleeps until woken or the next retry is due."""
        await self.release_stuck()
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                if self._leader is None or await self._leader.try_acquire():
                    await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
            timeout = 1.0
            if self.next_wake is not None:
                timeout = min(1.0, max(0.01, (self.next_wake - self._clock.now()).total_seconds()))
            waiter = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({waiter, stopper}, timeout=timeout, return_when="FIRST_COMPLETED")
            waiter.cancel()
            stopper.cancel()
        if self._leader is not None:
            await self._leader.release()

    def stop(self) -> None:
        """Stop taking new rows; the batch in flight is finished by `run`."""
        self._stopping.set()

    async def release_stuck(self) -> int:
        async with unit_of_work(self._sessions) as uow:
            return await uow.outbox.release_stuck(older_than=self._clock.now())

    async def drain_once(self) -> int:
        """Send what is due now in every lane; returns how many rows were settled."""
        self.next_wake = None
        now = self._clock.now()
        self._held = {lane: until for lane, until in self._held.items() if until > now}
        self._held_workspaces = {
            key: until for key, until in self._held_workspaces.items() if until > now
        }
        for until in (*self._held.values(), *self._held_workspaces.values()):
            self._note_wake(until)
        async with unit_of_work(self._sessions) as uow:
            rows = await uow.outbox.ready(
                now,
                BATCH,
                skip_lanes=self._held.keys(),
                skip_workspaces=self._held_workspaces.keys(),
            )
            later = await uow.outbox.next_retry()
            uow.session.expunge_all()
        if later is not None and later > now:
            self._note_wake(later)
        lanes: OrderedDict[str, list[OutboxMessage]] = OrderedDict()
        for row in rows:
            lanes.setdefault(row.lane, []).append(row)
        if not lanes:
            return 0
        limit = asyncio.Semaphore(self._config.concurrency)

        async def run_lane(lane_rows: list[OutboxMessage]) -> list[Outcome]:
            async with limit:
                return await self._send_lane(lane_rows)

        results = await asyncio.gather(*(run_lane(lane) for lane in lanes.values()))
        return sum(len(lane_outcomes) for lane_outcomes in results)

    def _note_wake(self, moment: datetime) -> None:
        if self.next_wake is None or moment < self.next_wake:
            self.next_wake = moment

    async def _send_lane(self, rows: list[OutboxMessage]) -> list[Outcome]:
        """Send a lane's rows in order until one must wait, settling each as it completes.

        A send is recorded before the next one starts, so a crash mid-drain can repeat at
        most the sends in flight, and no lane waits for another's bookkeeping.
        """
        outcomes: list[Outcome] = []
        sent_here: dict[str, str] = {}  # ref_key -> platform ref, for updates in this batch
        for position, row in enumerate(rows):
            if self._stopping.is_set():
                break
            now = self._clock.now()
            if row.next_attempt_at > now:
                self._note_wake(row.next_attempt_at)
                break  # this row waits for a retry and holds its lane
            later = rows[position + 1 :]
            if row.update_of_key and any(
                other.update_of_key == row.update_of_key for other in later
            ):
                outcomes.append(await self._settle(Outcome(row.id, OutboxStatus.SUPERSEDED), row))
                continue
            wait = self._rate_wait(row, now)
            if wait > 0:
                # Held lanes are skipped by the query until they may send again.
                until = now + timedelta(seconds=wait)
                self._held[row.lane] = until
                self._note_wake(until)
                break
            outcome = await self._settle(await self._attempt(row, sent_here), row)
            outcomes.append(outcome)
            if outcome.status == OutboxStatus.SENT and row.ref_key and not row.update_of_key:
                sent_here[row.ref_key] = outcome.platform_ref or ""
            if outcome.status != OutboxStatus.SENT and outcome.status != OutboxStatus.DEAD:
                break
        return outcomes

    def _rate_wait(self, row: OutboxMessage, now: datetime) -> float:
        lane = self._lane_limits.get(row.platform)
        workspace = self._workspace_limits.get(row.platform)
        if lane is None or workspace is None:
            return 0.0
        workspace_wait = workspace.wait_time(row.workspace, now)
        if workspace_wait > 0:
            key = row.workspace
            self._held_workspaces[key] = now + timedelta(seconds=workspace_wait)
        return max(lane.wait_time(row.lane, now), workspace_wait)

    async def _attempt(self, row: OutboxMessage, sent_here: dict[str, str]) -> Outcome:
        client = self._clients.get(row.platform)
        if client is None:
            return Outcome(
                row.id, OutboxStatus.DEAD, error=f"platform {row.platform!r} is not enabled"
            )
        update_of: str | None = None
        if row.update_of_key:
            original = sent_here.get(row.update_of_key) or await self._sent_ref(
                row, row.update_of_key
            )
            if original is None:
                return Outcome(
                    row.id, OutboxStatus.DEAD, error="the message to update was never sent"
                )
            update_of = original
        target = Target.model_validate(row.target)
        if target.thread_ref and target.thread_ref.startswith(THREAD_KEY):
            parent_key = target.thread_ref.removeprefix(THREAD_KEY)
            parent = sent_here.get(parent_key) or await self._sent_ref(row, parent_key)
            if parent is None:
                return Outcome(
                    row.id, OutboxStatus.DEAD, error="the thread's first message was never sent"
                )
            target = target.model_copy(update={"thread_ref": parent})
        delivery = Delivery(
            outbox_id=row.id,
            target=target,
            message=Message.model_validate(row.message),
            update_of=update_of,
        )
        now = self._clock.now()
        self._lane_limits[row.platform].record(row.lane, now)
        self._workspace_limits[row.platform].record(row.workspace, now)
        self._inflight += 1
        try:
            reference = await client.deliver(delivery)
        except DeliveryError as error:
            return self._failed(row, error)
        except Exception as error:
            log.exception("unexpected delivery error", extra={"outbox_id": row.id})
            return self._failed(row, DeliveryError(f"{type(error).__name__}: {error}"))
        finally:
            self._inflight -= 1
        self._metrics.messages_out.labels(row.platform, OutboxStatus.SENT).inc()
        return Outcome(row.id, OutboxStatus.SENT, platform_ref=reference)

    async def _sent_ref(self, row: OutboxMessage, ref_key: str) -> str | None:
        """The platform reference of the message sent under `ref_key` in this row's lane."""
        async with unit_of_work(self._sessions) as uow:
            found = await uow.outbox.sent_ref(ref_key, row.platform, row.lane)
        if found is None or found[0] != OutboxStatus.SENT or not found[1]:
            return None
        return found[1]

    def _failed(self, row: OutboxMessage, error: DeliveryError) -> Outcome:
        attempts = row.attempts + 1
        if error.permanent or attempts >= self._config.max_attempts:
            self._metrics.messages_out.labels(row.platform, OutboxStatus.DEAD).inc()
            log.warning(
                "message dead-lettered",
                extra={"outbox_id": row.id, "reason": error.reason, "attempts": attempts},
            )
            return Outcome(
                row.id,
                OutboxStatus.DEAD,
                error=error.reason,
                unreachable=error.recipient_unreachable,
            )
        self._metrics.messages_out.labels(row.platform, "retry").inc()
        if error.retry_after is not None:
            delay = error.retry_after
        else:
            delay = backoff_seconds(
                attempts,
                base=self._config.base_backoff_seconds,
                maximum=self._config.max_backoff_seconds,
                rng=self._rng,
            )
        retry_at = self._clock.now() + timedelta(seconds=delay)
        self._note_wake(retry_at)
        return Outcome(row.id, OutboxStatus.PENDING, error=error.reason, retry_at=retry_at)

    async def _settle(self, outcome: Outcome, row: OutboxMessage) -> Outcome:
        """Record one send's outcome in its own short transaction."""
        sent = outcome.status == OutboxStatus.SENT
        counted = outcome.status in (OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.PENDING)
        change = {
            "id": row.id,
            "status": outcome.status,
            "attempts": row.attempts + int(counted),
            "platform_ref": outcome.platform_ref if sent else row.platform_ref,
            "sent_at": self._clock.now() if sent else row.sent_at,
            "last_error": None if sent else (outcome.error or row.last_error or "")[:2000] or None,
            "next_attempt_at": outcome.retry_at or row.next_attempt_at,
        }
        target = Target.model_validate(row.target)
        async with unit_of_work(self._sessions) as uow:
            await uow.outbox.settle([change])
            if outcome.unreachable and target.user_id is not None:
                await uow.people.mark_unreachable(
                    platform=row.platform, workspace=row.workspace, user_id=target.user_id
                )
        return outcome

    @property
    def inflight(self) -> int:
        return self._inflight
