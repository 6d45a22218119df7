"""The sender: drains the outbox, replies first, at each workspace's learned rate.

Order is kept per lane (a channel, or a person's DM): a lane's messages go out one after
another, and a message waiting for a retry holds back the ones queued after it. Replies to
a person's own action go before bulk sends; bulk sends take turns between cohorts. Each
workspace is paced at a rate learned from its 429s (see `pacing`); a 429 holds the whole
workspace until Retry-After and is never counted as a failed attempt. Transient failures
back off exponentially with jitter, permanent ones are dead-lettered where moderators can
see them. Updates to a message not yet sent wait behind it in the same lane; several
pending updates of one message coalesce.

Each row is marked `sending` before it goes and settled in its own short transaction as
it completes, so a crash repeats at most the sends in flight; a platform that can read a
conversation's history (Slack) is asked about those few before they go again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import SenderConfig
from bot.model.messages import Delivery, Message, Target
from bot.model.ports import (
    DeliveryError,
    PlatformClient,
    find_delivered,
    home_workspace,
    spends_workspace_budget,
)
from bot.runtime.backoff import backoff_seconds
from bot.runtime.clock import Clock
from bot.runtime.effects import THREAD_KEY
from bot.runtime.pacing import RateBounds, WorkspacePace
from bot.runtime.ratelimit import WindowLimiter
from bot.support.group_commit import GroupCommit
from bot.support.metrics import Metrics
from storage.db import SessionFactory
from storage.leader import LeaderLock
from storage.models import OutboxMessage
from storage.statuses import DeliveryClass, OutboxStatus
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

CANDIDATES = 200
"""Lane heads read per look at the queue."""
FRESH_FOR = 0.25
"""Seconds a look at the queue stays good enough to launch from."""
RELOOK_AFTER_QUEUED = 0.05
"""Seconds between looks at the queue while new rows keep arriving."""
CLAIM_EVERY = 0.03
"""Least seconds between claims while running: a burst's rows share one transaction."""
SAVE_RATES_EVERY = 5.0
"""Seconds between saves of learned rates (and at stop)."""


@dataclass(frozen=True)
class Outcome:
    outbox_id: int
    status: str
    platform_ref: str | None = None
    error: str | None = None
    retry_at: datetime | None = None
    unreachable: bool = False
    counted: bool = True
    """Whether this try counts as an attempt (a 429 does not)."""


@dataclass(frozen=True)
class Settlement:
    """An outcome as written: the outbox row's new columns, and who proved unreachable."""

    change: dict[str, object]
    unreachable: tuple[str, str, str] | None


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
            name: WindowLimiter(client.limits.per_lane if config.pacing else ())
            for name, client in clients.items()
        }
        self._paces: dict[tuple[str, str], WorkspacePace] = {}
        # Sends finishing together share one transaction: on SQLite every transaction
        # is a turn on the one writer that the events being answered also need.
        self._settler = GroupCommit(self._write_settlements, name="outbox settle")
        self._saved_rates: dict[tuple[str, str], tuple[float, float | None]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Outcome]] = set()
        self._busy_lanes: set[str] = set()
        self._candidates: list[OutboxMessage] = []
        self._budgeted: dict[int, bool] = {}
        self._looked_at: float | None = None
        self._claimed_at: float | None = None
        self._queued_since_look = False
        self._recovered = False
        self._rates_loaded = False
        self.next_wake: datetime | None = None

    def wake(self) -> None:
        """New rows were queued: look at the queue again soon."""
        self._queued_since_look = True
        self._wake.set()

    def stop(self) -> None:
        """Stop taking new rows; the sends in flight are finished by `run`."""
        self._stopping.set()
        self._wake.set()

    @property
    def inflight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        """Send until stopped; sleeps until woken, a send completes, or a wait runs out."""
        last_saved = self._clock.now()
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                if self._leader is None or await self._leader.try_acquire():
                    await self._prepare()
                    await self._space_claims()
                    self._launch(await self._choose())
            except Exception:
                log.exception("outbox drain failed")
            if (self._clock.now() - last_saved).total_seconds() >= SAVE_RATES_EVERY:
                await self._save_rates()
                last_saved = self._clock.now()
            await self._sleep()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._save_rates()
        if self._leader is not None:
            await self._leader.release()

    async def _space_claims(self) -> None:
        """Wait out the rest of `CLAIM_EVERY` since the last claim.

        Each send finishing wakes the sender; during a burst of replies, claiming at
        each wake would take the one SQLite writer once per reply from the events
        being answered. A few milliseconds' wait lets the next claim take them together.
        """
        if self._claimed_at is not None:
            gap = CLAIM_EVERY - (time.monotonic() - self._claimed_at)
            if gap > 0:
                await asyncio.sleep(gap)

    async def _sleep(self) -> None:
        timeout = 1.0
        if self.next_wake is not None:
            timeout = min(1.0, max(0.005, (self.next_wake - self._clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def drain_once(self) -> int:
        """Send everything that may go now, waiting for each send; returns rows settled."""
        await self._prepare()
        settled = 0
        while not self._stopping.is_set():
            self._looked_at = None
            launched = self._launch(await self._choose())
            if not launched:
                break
            settled += len(await asyncio.gather(*launched))
        return settled

    async def _prepare(self) -> None:
        """Once per process: learned rates in, rows a dead sender left in flight settled."""
        if not self._rates_loaded:
            await self._load_rates()
            self._rates_loaded = True
        if not self._recovered:
            await self.recover()
            self._recovered = True

    async def recover(self) -> int:
        """Settle rows left `sending` by a sender that died: sent already, or to send again."""
        async with unit_of_work(self._sessions) as uow:
            rows = await uow.outbox.in_flight()
            uow.session.expunge_all()
        for row in rows:
            reference = await self._already_delivered(row)
            if reference is not None:
                log.info("message found already delivered", extra={"outbox_id": row.id})
                await self._settle(Outcome(row.id, OutboxStatus.SENT, platform_ref=reference), row)
            else:
                await self._settle(
                    Outcome(
                        row.id, OutboxStatus.PENDING, retry_at=row.next_attempt_at, counted=False
                    ),
                    row,
                )
        return len(rows)

    async def _already_delivered(self, row: OutboxMessage) -> str | None:
        client = self._clients.get(row.platform)
        if client is None or row.update_of_key:
            return None
        try:
            return await find_delivered(client, self._delivery(row, update_of=None))
        except Exception:
            # Unable to tell: sending again is the lesser harm than losing the message.
            log.warning("could not read the conversation's history", extra={"outbox_id": row.id})
            return None

    async def _choose(self) -> list[OutboxMessage]:
        """The rows to send now: lane heads in order, within lane, pace and concurrency."""
        now = self._clock.now()
        self.next_wake = None
        rows = await self._look(now)
        chosen: list[OutboxMessage] = []
        blocked: set[tuple[str, str]] = set()
        room = self._config.concurrency - len(self._tasks)
        for row in rows:
            if len(chosen) >= room or self._stopping.is_set():
                break
            if row.lane in self._busy_lanes:
                continue
            budgeted = self._spends_budget(row)
            lane_wait = self._lane_wait(row, now) if budgeted else 0.0
            if lane_wait > 0:
                self._note_wake(now + timedelta(seconds=lane_wait))
                continue
            pace = self._pace(*self._budget_key(row)) if budgeted else None
            if pace is not None:
                key = (row.platform, row.workspace)
                if key in blocked:
                    continue
                wait = pace.wait(now.timestamp())
                if wait > 0:
                    # What is behind in this workspace must not take the token first.
                    blocked.add(key)
                    self._note_wake(now + timedelta(seconds=wait))
                    continue
                pace.take(now.timestamp())
            limiter = self._lane_limits.get(row.platform)
            if limiter is not None and budgeted:
                limiter.record(row.lane, now)
            self._busy_lanes.add(row.lane)
            chosen.append(row)
        if not chosen:
            return []
        taken = {row.id for row in chosen}
        self._candidates = [row for row in self._candidates if row.id not in taken]
        async with unit_of_work(self._sessions) as uow:
            claimed = await uow.outbox.claim(taken)
        self._claimed_at = time.monotonic()
        for row in chosen:
            if row.id not in claimed:  # superseded since the look at the queue
                self._busy_lanes.discard(row.lane)
        return [row for row in chosen if row.id in claimed]

    async def _look(self, now: datetime) -> list[OutboxMessage]:
        """The queue's lane heads, read again when the last look is stale or used up."""
        # Freshness is about load on the database, so it runs on the machine's own clock,
        # not on the program's (which tests hold still).
        age = None if self._looked_at is None else time.monotonic() - self._looked_at
        if age is not None and 0 <= age < FRESH_FOR:
            # Many events queue rows in a burst: look again for them at most this often,
            # so the sender does not take the database from the events it answers.
            if self._queued_since_look and age < RELOOK_AFTER_QUEUED:
                self._note_wake(now + timedelta(seconds=RELOOK_AFTER_QUEUED - age))
                return list(self._candidates)
            if not self._queued_since_look and self._candidates:
                return list(self._candidates)
        self._queued_since_look = False
        held = {key for key, pace in self._paces.items() if pace.held_until > now.timestamp()}
        # Rows queued without a workspace go to their platform's home workspace.
        held |= {
            (platform, "") for platform, workspace in held if workspace == self._home(platform)
        }
        async with unit_of_work(self._sessions) as uow:
            rows = await uow.outbox.ready(now, CANDIDATES, held_workspaces=held)
            later = await uow.outbox.next_retry()
            uow.session.expunge_all()
        if later is not None and later > now:
            self._note_wake(later)
        self._candidates = rows
        self._budgeted = {
            row.id: self._budgeted[row.id] for row in rows if row.id in self._budgeted
        }
        self._looked_at = time.monotonic()
        return list(rows)

    def _launch(self, rows: list[OutboxMessage]) -> list[asyncio.Task[Outcome]]:
        launched = [asyncio.ensure_future(self._send(row)) for row in rows]
        for task in launched:
            self._tasks.add(task)
            task.add_done_callback(self._finished)
        return launched

    def _finished(self, task: asyncio.Task[Outcome]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    def _lane_wait(self, row: OutboxMessage, now: datetime) -> float:
        limiter = self._lane_limits.get(row.platform)
        return 0.0 if limiter is None else limiter.wait_time(row.lane, now)

    def _spends_budget(self, row: OutboxMessage) -> bool:
        """Whether this row counts against its workspace's and its channel's posting limits.

        A Slack response_url answer does neither: it is limited per URL, and posts nothing
        into the channel's timeline.
        """
        known = self._budgeted.get(row.id)
        if known is not None:
            return known
        client = self._clients.get(row.platform)
        if client is None:
            return False
        # Asked of every lane head at every look: worked out once per row (a pydantic
        # round trip per row per look would take the CPU from the events being answered).
        target = Target.model_validate(row.target)
        probe = Delivery(outbox_id=row.id, target=target, message=Message(text=""))
        spends = self._budgeted[row.id] = spends_workspace_budget(client, probe)
        return spends

    def _budget_key(self, row: OutboxMessage) -> tuple[str, str]:
        """Whose posting limits this row spends: its platform and workspace."""
        return row.platform, row.workspace or self._home(row.platform)

    def _home(self, platform: str) -> str:
        client = self._clients.get(platform)
        return "" if client is None else home_workspace(client)

    def _pace(self, platform: str, workspace: str) -> WorkspacePace | None:
        key = (platform, workspace)
        pace = self._paces.get(key)
        if pace is None:
            start = self._start_rate(platform)
            if start is None:
                return None
            pace = WorkspacePace(_bounds(start), now=self._clock.now().timestamp())
            self._paces[key] = pace
        return pace

    def _start_rate(self, platform: str) -> float | None:
        client = self._clients.get(platform)
        if client is None or client.limits.start_rate is None or not self._config.pacing:
            return None  # not a paced platform (the playground), or pacing is off
        return self._config.start_rate or client.limits.start_rate

    def _note_wake(self, moment: datetime) -> None:
        if self.next_wake is None or moment < self.next_wake:
            self.next_wake = moment

    async def _send(self, row: OutboxMessage) -> Outcome:
        try:
            if row.update_of_key:
                async with unit_of_work(self._sessions) as uow:
                    superseded = await uow.outbox.supersede_older_updates(row)
                if superseded:
                    return Outcome(row.id, OutboxStatus.SUPERSEDED)
            outcome = await self._attempt(row)
            return await self._settle(outcome, row)
        finally:
            self._busy_lanes.discard(row.lane)

    async def _attempt(self, row: OutboxMessage) -> Outcome:
        client = self._clients.get(row.platform)
        if client is None:
            return Outcome(
                row.id, OutboxStatus.DEAD, error=f"platform {row.platform!r} is not enabled"
            )
        update_of: str | None = None
        if row.update_of_key:
            update_of = await self._sent_ref(row, row.update_of_key)
            if update_of is None:
                return Outcome(
                    row.id, OutboxStatus.DEAD, error="the message to update was never sent"
                )
        delivery = self._delivery(row, update_of=update_of)
        if delivery.target.thread_ref and delivery.target.thread_ref.startswith(THREAD_KEY):
            parent = await self._sent_ref(row, delivery.target.thread_ref.removeprefix(THREAD_KEY))
            if parent is None:
                return Outcome(
                    row.id, OutboxStatus.DEAD, error="the thread's first message was never sent"
                )
            target = delivery.target.model_copy(update={"thread_ref": parent})
            delivery = delivery.model_copy(update={"target": target})
        # Only posts that spend the workspace's budget tell anything about its limit: a
        # response_url answer succeeding there would teach the pace a rate it cannot keep.
        pace = self._paces.get(self._budget_key(row)) if self._spends_budget(row) else None
        try:
            reference = await client.deliver(delivery)
        except DeliveryError as error:
            if error.rate_limited:
                return self._refused(row, error, pace)
            return self._failed(row, error)
        except Exception as error:
            log.exception("unexpected delivery error", extra={"outbox_id": row.id})
            return self._failed(row, DeliveryError(f"{type(error).__name__}: {error}"))
        if pace is not None:
            pace.succeeded(self._clock.now().timestamp())
        self._metrics.messages_out.labels(row.platform, OutboxStatus.SENT).inc()
        if row.delivery_class == DeliveryClass.REPLY and row.reply_to_at is not None:
            waited = (self._clock.now() - row.reply_to_at).total_seconds()
            self._metrics.reply_latency.labels(row.platform).observe(max(0.0, waited))
        return Outcome(row.id, OutboxStatus.SENT, platform_ref=reference)

    def _delivery(self, row: OutboxMessage, *, update_of: str | None) -> Delivery:
        return Delivery(
            outbox_id=row.id,
            target=Target.model_validate(row.target),
            message=Message.model_validate(row.message),
            update_of=update_of,
        )

    async def _sent_ref(self, row: OutboxMessage, ref_key: str) -> str | None:
        """The platform reference of the message sent under `ref_key` in this row's lane."""
        async with unit_of_work(self._sessions) as uow:
            found = await uow.outbox.sent_ref(ref_key, row.platform, row.lane)
        if found is None or found[0] != OutboxStatus.SENT or not found[1]:
            return None
        return found[1]

    def _refused(
        self, row: OutboxMessage, error: DeliveryError, pace: WorkspacePace | None
    ) -> Outcome:
        """A 429: the whole workspace waits; the message keeps its place and its attempts."""
        now = self._clock.now()
        wait = error.retry_after if error.retry_after is not None else 1.0
        if pace is None:
            pace = self._pace(*self._budget_key(row)) or self._unpaced(row)
        pace.refused(now.timestamp(), wait)
        self._metrics.rate_limited.labels(row.platform).inc()
        retry_at = now + timedelta(seconds=wait)
        self._note_wake(retry_at)
        self._looked_at = None
        return Outcome(
            row.id, OutboxStatus.PENDING, error=error.reason, retry_at=retry_at, counted=False
        )

    def _unpaced(self, row: OutboxMessage) -> WorkspacePace:
        """A workspace whose platform names no start rate, paced from its first 429 on."""
        observed = max(1.0, float(self._config.concurrency))
        pace = WorkspacePace(_bounds(observed), now=self._clock.now().timestamp())
        self._paces[self._budget_key(row)] = pace
        return pace

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
        """Record one send's outcome as soon as it is known (with others finishing then)."""
        sent = outcome.status == OutboxStatus.SENT
        change = {
            "id": row.id,
            "status": outcome.status,
            "attempts": row.attempts + int(outcome.counted),
            "platform_ref": outcome.platform_ref if sent else row.platform_ref,
            "sent_at": self._clock.now() if sent else row.sent_at,
            "last_error": None if sent else (outcome.error or row.last_error or "")[:2000] or None,
            "next_attempt_at": outcome.retry_at or row.next_attempt_at,
        }
        target = Target.model_validate(row.target)
        unreachable = None
        if outcome.unreachable and target.user_id is not None:
            unreachable = (row.platform, row.workspace, target.user_id)
        await self._settler.submit(Settlement(change, unreachable))
        return outcome

    async def _write_settlements(self, settlements: list[Settlement]) -> list[None]:
        async with unit_of_work(self._sessions) as uow:
            await uow.outbox.settle([settlement.change for settlement in settlements])
            for settlement in settlements:
                if settlement.unreachable is not None:
                    platform, workspace, user_id = settlement.unreachable
                    await uow.people.mark_unreachable(
                        platform=platform, workspace=workspace, user_id=user_id
                    )
        return [None] * len(settlements)

    async def _load_rates(self) -> None:
        """Start each workspace from what was learned before a restart."""
        async with unit_of_work(self._sessions) as uow:
            saved = await uow.delivery_rates.all()
        now = self._clock.now().timestamp()
        for row in saved:
            start = self._start_rate(row.platform)
            if start is None:
                continue
            key = (row.platform, row.workspace)
            self._paces[key] = WorkspacePace(
                _bounds(start), now=now, rate=row.rate, refused_rate=row.ceiling
            )
            self._saved_rates[key] = (row.rate, row.ceiling)

    async def _save_rates(self) -> None:
        for (platform, workspace), pace in self._paces.items():
            self._metrics.learned_rate.labels(platform, workspace).set(pace.rate)
        changed = {
            key: (pace.rate, pace.refused_rate)
            for key, pace in self._paces.items()
            if self._saved_rates.get(key) != (pace.rate, pace.refused_rate)
        }
        if not changed:
            return
        try:
            async with unit_of_work(self._sessions) as uow:
                for (platform, workspace), (rate, ceiling) in changed.items():
                    await uow.delivery_rates.save(
                        platform=platform,
                        workspace=workspace,
                        rate=rate,
                        ceiling=ceiling,
                        now=self._clock.now(),
                    )
        except Exception:
            log.exception("learned rates not saved")
            return
        self._saved_rates.update(changed)

    def learned_rates(self) -> dict[tuple[str, str], float]:
        """Each paced workspace's current rate, posts per second."""
        return {key: pace.rate for key, pace in self._paces.items()}


def _bounds(start: float) -> RateBounds:
    """Learn between a trickle and well above the start (a configured start may be high)."""
    return RateBounds(start=start, floor=0.2, ceiling=max(100.0, 4 * start))
