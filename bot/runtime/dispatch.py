"""Inbound events: record in the inbox, acknowledge, then process once under a lock.

The inbox row is written before the platform gets its acknowledgement, so an event is
never lost if the process dies in between: pending rows are processed again at start.
A retried delivery of an event id already recorded is acknowledged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

from bot.commands.router import ActionContext, CommandRouter, FormContext
from bot.config import AppConfig
from bot.model.events import (
    ActionInvoked,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    InboundEvent,
    MemberJoined,
    MessageReceived,
)
from bot.model.messages import FORM_OPEN_ACTION, AudienceKind, Context, Message, Section
from bot.model.ports import InboxUnavailable, UserProfiles
from bot.runtime.clock import Clock
from bot.runtime.effects import Effects, Origin
from bot.runtime.engine import ANSWER_ACTION, FlowEngine, decode_answer, decode_select
from bot.runtime.first_sight import FirstSight, with_profile
from bot.runtime.home import home_page
from bot.runtime.intake import Intake
from bot.runtime.sealed import SealedValues
from bot.runtime.transient import TransientRetries, error_kind, is_transient
from bot.runtime.typed import TypedReply
from bot.support.metrics import Metrics
from storage.db import SessionFactory
from storage.models import Person
from storage.repositories.people import IdentityFacts
from storage.statuses import InboxStatus, move
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

_EVENT = TypeAdapter[InboundEvent](InboundEvent)
_COMMAND_WORDS = ("/cohort", "cohort")
_HELP_WORDS = {"help", "?", "hi", "hello", "menu"}
ACK_BUDGET = 2.0
"""Seconds an acknowledgement may wait for its inbox row: Slack gives up after 3."""
LOCKED_RETRIES = 100
LOCKED_RETRY_SECONDS = 0.05


@dataclass
class Dispatcher:
    sessions: SessionFactory
    clock: Clock
    engine: FlowEngine
    router: CommandRouter
    metrics: Metrics
    platforms: frozenset[str]
    on_effects: Callable[[], None]
    config: AppConfig

    workers: int = 4
    group_platforms: frozenset[str] = frozenset()
    """Platforms whose client opens group conversations (see `Effects.group`)."""
    profiles: Mapping[str, UserProfiles] = field(default_factory=dict)
    """Platforms whose clients read a new person's profile (see `first_sight`)."""

    def __post_init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._intake = Intake(record=self._record, process=self.process, workers=self.workers)
        self._first_sight = FirstSight(sessions=self.sessions, profiles=self.profiles)
        self._keys: dict[int, str | None] = {}
        self._sealed = SealedValues()
        self._retries = TransientRetries(
            again=lambda inbox_id: self._intake.schedule(inbox_id, self._keys.get(inbox_id)),
            give_up=self._record_failure,
        )

    async def accept(self, event: InboundEvent) -> bool:
        """Record the event and queue it for processing; False for a duplicate delivery.

        Raises `InboxUnavailable` when the row is not written within ACK_BUDGET. A write
        that lands after that is still processed: the platform's retry is then a duplicate.
        """
        event = self._sealed.seal(event)
        submitted = asyncio.ensure_future(self._intake.submit(event))
        try:
            inbox_id = await asyncio.wait_for(asyncio.shield(submitted), ACK_BUDGET)
        except (TimeoutError, asyncio.CancelledError) as error:
            submitted.add_done_callback(lambda done: self._landed_late(event, done))
            if isinstance(error, asyncio.CancelledError):
                raise
            log.warning("inbox write too slow; asking for a retry", extra={"seconds": ACK_BUDGET})
            raise InboxUnavailable("the inbox is busy") from None
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning(
                "inbox write failed; asking for a retry", extra={"error": error_kind(error)}
            )
            raise InboxUnavailable("the inbox cannot be written") from None
        return self._accepted(event, inbox_id)

    def _landed_late(self, event: InboundEvent, done: asyncio.Future[int | None]) -> None:
        """An inbox write that finished after its request gave up: process it all the same."""
        if not done.cancelled() and done.exception() is None:
            self._accepted(event, done.result())

    def _accepted(self, event: InboundEvent, inbox_id: int | None) -> bool:
        platform = event.actor.platform
        if inbox_id is None:
            self.metrics.events_in.labels(platform, "duplicate").inc()
            log.info("duplicate event dropped", extra={"event_id": event.event_id})
            return False
        self.metrics.events_in.labels(platform, "accepted").inc()
        self._first_sight.notice(inbox_id, event.actor)
        self._intake.schedule(inbox_id, _conversation_key(event))
        return True

    async def _record(self, events: list[InboundEvent]) -> list[int | None]:
        """One transaction for a whole batch of inbox rows."""
        now = self.clock.now()
        rows = [(e.actor.platform, e.event_id, e.model_dump(mode="json")) for e in events]
        # Whether their authors are new here is asked in the same transaction, so reading
        # a new person's profile needs no transaction of its own later.
        to_check = self._first_sight.to_check([e.actor for e in events])
        async with unit_of_work(self.sessions) as uow:
            ids = await uow.inbox.record_many(rows, now=now)
            known = await uow.people.known_users(to_check)
        self._first_sight.checked(to_check, known)
        return ids

    async def drain(self) -> None:
        """Wait until every accepted event has been processed (or dead-lettered)."""
        await self._intake.drain()
        while self._retries.waiting:
            await asyncio.sleep(0.05)
            await self._intake.drain()

    @property
    def busy(self) -> bool:
        return self._intake.busy or self._retries.waiting

    async def close(self) -> None:
        await self._intake.close()

    async def recover(self) -> int:
        """Process events recorded before a stop but never processed."""
        async with unit_of_work(self.sessions) as uow:
            pending = await uow.inbox.pending_ids()
        for inbox_id in pending:
            await self.process(inbox_id, None)
        return len(pending)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def process(self, inbox_id: int, conversation: str | None) -> None:
        key = conversation or f"inbox:{inbox_id}"
        async with self._lock(key):
            for _ in range(LOCKED_RETRIES):
                try:
                    if await self._process(inbox_id) != "locked":
                        self._retries.succeeded(inbox_id)
                        self._keys.pop(inbox_id, None)
                        break
                except Exception as error:
                    if is_transient(error):
                        # The row is still pending: try again soon, not only at the next start.
                        self._keys[inbox_id] = conversation
                        self._retries.failed(inbox_id, error)
                        break
                    log.exception("event processing failed", extra={"inbox_id": inbox_id})
                    await self._record_failure(inbox_id, error)
                    break
                # Another transaction holds the row (a replica processing it, or a
                # writer that has not finished): look again rather than drop the event.
                await asyncio.sleep(LOCKED_RETRY_SECONDS)
            else:
                log.warning("inbox row stayed locked", extra={"inbox_id": inbox_id})
        self.on_effects()

    async def _process(self, inbox_id: int) -> str:
        """ "done", "gone" (processed elsewhere) or "locked" (held by another transaction)."""
        profiled = await self._first_sight.profile(inbox_id)
        async with unit_of_work(self.sessions) as uow:
            row = await uow.inbox.claim(inbox_id)
            if row is None:
                return "locked" if await uow.inbox.is_pending(inbox_id) else "gone"
            event = _EVENT.validate_python(row.payload)
            now = self.clock.now()
            actor = with_profile(event.actor, profiled)
            person = await uow.people.ensure(
                IdentityFacts(
                    platform=actor.platform,
                    workspace=actor.workspace,
                    user_id=actor.user_id,
                    display_name=actor.display_name,
                    time_zone=actor.time_zone,
                    email=actor.email,
                ),
                now=now,
            )
            if event.conversation is not None:
                await uow.people.remember_conversation(
                    platform=actor.platform,
                    workspace=actor.workspace,
                    user_id=actor.user_id,
                    reference=event.conversation,
                )
            effects = Effects(
                uow,
                source=f"in:{actor.platform}:{event.event_id}",
                now=now,
                platforms=self.platforms,
                origin=_origin(event, acted_at=row.received_at),
                group_platforms=self.group_platforms,
            )
            await self._route(event, person, effects)
            if effects.private:
                row.payload = {"kind": event.kind, "event_id": event.event_id, "redacted": True}
            self._sealed.forget(event)
            move(row, InboxStatus.DONE)
            row.attempts += 1
            row.processed_at = now
        log.info(
            "event processed",
            extra={"inbox_id": inbox_id, "event_kind": event.kind, "queued": effects.queued},
        )
        return "done"

    async def _route(self, event: InboundEvent, person: Person, effects: Effects) -> None:
        if isinstance(event, CommandInvoked):
            await self._command(event.text, person, effects)
        elif isinstance(event, MessageReceived):
            await self._message(event, person, effects)
        elif isinstance(event, ActionInvoked):
            await self._action(event, person, effects)
        elif isinstance(event, FormSubmitted):
            await self._form(event, person, effects)
        elif isinstance(event, MemberJoined):
            await self._member_joined(event, person, effects)
        elif isinstance(event, HomeOpened):
            page = await home_page(effects.uow, self.config, person, effects.now)
            await effects.surface(AudienceKind.HOME, page, person_id=person.id)

    async def _command(self, text: str, person: Person, effects: Effects) -> None:
        await self.router.handle(text=text, person=person, effects=effects, engine=self.engine)

    async def _message(self, event: MessageReceived, person: Person, effects: Effects) -> None:
        text = event.text.strip()
        first = text.split(maxsplit=1)[0].lower() if text else ""
        if not event.is_direct and not event.mentions_bot:
            return  # channel chatter not addressed to the bot
        if first in _COMMAND_WORDS:
            await self._command(text, person, effects)
            return
        if first in _HELP_WORDS and len(text.split()) == 1:
            await self._command("help", person, effects)
            return
        if event.is_direct:

            async def click(action_id: str, value: str) -> None:
                base = event.model_dump(exclude={"kind", "text", "thread_ref", "mentions_bot"})
                clicked = ActionInvoked(**base, action_id=action_id, value=value)
                await self._action(clicked, person, effects)

            typed = TypedReply(engine=self.engine, person=person, effects=effects, invoke=click)
            if await typed.answer(text):
                return
        if self.router.table.get(first) is not None:
            # `join pilot-a` typed to the bot (Teams' command menu inserts bare words).
            await self._command(text, person, effects)
            return
        await effects.reply(
            Message(
                text="I didn't catch that. Type `help` to see what I can do.",
                blocks=[Section(text="I didn't catch that. Type `help` to see what I can do.")],
            ),
            person_id=person.id,
        )

    async def _action(self, event: ActionInvoked, person: Person, effects: Effects) -> None:
        opened = self._sealed.open(event)
        if opened is None:
            effects.keep_private()
            text = "Your click was not counted: I restarted just then. Please click again."
            await effects.reply(Message(text=text), person_id=person.id)
            return
        event = opened
        selected = decode_select(event.action_id, event.value)
        if event.action_id == ANSWER_ACTION or selected is not None:
            decoded = selected or decode_answer(event.value)
            run = await effects.uow.flow_runs.get(decoded[0], lock=True) if decoded else None
            if decoded is None or run is None or run.person_id != person.id:
                await effects.reply(Message(text="That button isn't for you."), person_id=person.id)
                return
            if not await self.engine.answer(
                run=run, person=person, raw=decoded[2], effects=effects, step=decoded[1]
            ):
                await effects.reply(
                    Message(
                        text="That question was already answered.",
                        blocks=[Context(text="That question was already answered.")],
                    ),
                    person_id=person.id,
                )
            return
        if event.action_id == FORM_OPEN_ACTION:
            await self._open_form(event, person, effects)
            return
        handler = self.router.action_handler(event.action_id)
        if handler is not None:
            await handler(
                ActionContext(
                    person=person,
                    action_id=event.action_id,
                    value=event.value,
                    effects=effects,
                    engine=self.engine,
                )
            )
            return
        log.warning("action without a handler", extra={"action_id": event.action_id})
        await effects.reply(
            Message(text="That button no longer works. Type `help` to see what I can do."),
            person_id=person.id,
        )

    async def _open_form(self, event: ActionInvoked, person: Person, effects: Effects) -> None:
        """Open the form of a message the person received, where forms live in a modal."""
        row = await effects.uow.outbox.get(int(event.value)) if event.value.isdigit() else None
        if row is None or row.person_id not in (None, person.id):
            await effects.reply(
                Message(text="That form is no longer available."), person_id=person.id
            )
            return
        form = Message.model_validate(row.message)
        await effects.surface(AudienceKind.MODAL, form, person_id=person.id)

    async def _form(self, event: FormSubmitted, person: Person, effects: Effects) -> None:
        form_handler = self.router.form_handler(event.form_id)
        if form_handler is not None:
            await form_handler(
                FormContext(
                    person=person,
                    form_id=event.form_id,
                    values=dict(event.values),
                    effects=effects,
                    engine=self.engine,
                )
            )
            return
        decoded = decode_answer(event.form_id)
        if decoded is not None and len(event.values) == 1:
            run = await effects.uow.flow_runs.get(decoded[0], lock=True)
            raw = next(iter(event.values.values()))
            if (
                run is not None
                and run.person_id == person.id
                and await self.engine.answer(
                    run=run, person=person, raw=raw, effects=effects, step=decoded[1]
                )
            ):
                return
        await effects.reply(
            Message(text="That form has expired. Type `help` to see what I can do."),
            person_id=person.id,
        )

    async def _member_joined(self, event: MemberJoined, person: Person, effects: Effects) -> None:
        if event.bot_added:
            text = (
                "Hi, I'm cohortbot. I run peer-learning cohorts: onboarding, check-ins, "
                "pairing, peer reviews and polls. Type `help` to see what I can do."
            )
        else:
            # Some platforms announce new members by id only; greet without a name then.
            name = person.display_name if person.display_name != event.actor.user_id else ""
            text = (
                f"Welcome{', ' + name if name else ''}! Type `/cohort cohorts` to see the "
                "cohorts you can join."
            )
        await effects.reply(Message(text=text, blocks=[Section(text=text)]), person_id=person.id)

    async def _record_failure(self, inbox_id: int, error: BaseException) -> None:
        """Mark the event failed, then tell the person, so nothing fails silently.

        Two transactions: the failure is recorded even when the apology cannot be queued.
        """
        self._keys.pop(inbox_id, None)
        async with unit_of_work(self.sessions) as uow:
            row = await uow.inbox.claim(inbox_id)
            if row is None:
                return
            move(row, InboxStatus.FAILED)
            row.attempts += 1
            row.error = f"{type(error).__name__}: {error}"[:2000]
            row.processed_at = self.clock.now()
            payload = row.payload
        try:
            event = _EVENT.validate_python(payload)
        except ValueError:
            return  # not an event we can answer; the row keeps the error
        try:
            async with unit_of_work(self.sessions) as uow:
                effects = Effects(
                    uow,
                    source=f"err:{event.actor.platform}:{event.event_id}",
                    now=self.clock.now(),
                    platforms=self.platforms,
                    origin=_origin(event),
                )
                text = f"Sorry, something went wrong on my side (reference #{inbox_id})."
                await effects.reply(Message(text=text))
        except Exception as still:
            if not is_transient(still):
                raise
            log.warning(
                "could not tell the person about a failed event",
                extra={"inbox_id": inbox_id, "error": type(still).__name__},
            )


def _origin(event: InboundEvent, *, acted_at: datetime | None = None) -> Origin:
    return Origin(
        platform=event.actor.platform,
        workspace=event.actor.workspace,
        user_id=event.actor.user_id,
        channel_id=event.channel_id,
        is_direct=event.is_direct,
        reply_token=event.reply_token,
        acted_at=acted_at,
    )


def _conversation_key(event: InboundEvent) -> str:
    actor = event.actor
    return f"{actor.platform}:{actor.workspace}:{actor.user_id}"
