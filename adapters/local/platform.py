"""The playground's own platform: an in-process transcript that plays the chat service.

It is what Slack or Teams are to their adapters: the bot delivers into it through
`LocalClient`, and the playground page reads it back. It lives in memory, like a chat
service's history that the bot does not own; flow state stays in the database.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.model.messages import AudienceKind, Delivery, Message
from bot.model.ports import DeliveryError, PlatformUser, RateLimits, UserNotFound
from bot.runtime.clock import Clock

PLATFORM = "local"
BOT = "bot"


@dataclass(frozen=True)
class Entry:
    seq: int
    id: str
    where: str
    channel_id: str | None
    user_id: str | None
    """The DM partner, or the only person who sees an ephemeral message."""
    ephemeral: bool
    thread_ref: str | None
    message: Message
    sent_at: datetime
    author: str
    author_name: str

    def visible_to(self, person: str) -> bool:
        if self.ephemeral or self.where == "dm":
            return self.user_id == person
        return True

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "where": self.where,
            "channel_id": self.channel_id,
            "ephemeral": self.ephemeral,
            "thread_ref": self.thread_ref,
            "message": self.message.model_dump(mode="json"),
            "sent_at": self.sent_at.isoformat().replace("+00:00", "Z"),
            "from": self.author,
            "author_name": self.author_name,
        }


@dataclass
class Transcript:
    """Everything said on the local platform, newest last, bounded in size."""

    clock: Clock
    limit: int = 5000
    entries: deque[Entry] = field(default_factory=deque)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self,
        *,
        where: str,
        message: Message,
        channel_id: str | None = None,
        user_id: str | None = None,
        ephemeral: bool = False,
        thread_ref: str | None = None,
        author: str = BOT,
        author_name: str = "cohortbot",
    ) -> Entry:
        entry = Entry(
            seq=next(self._seq),
            id=f"m{next(self._ids)}",
            where=where,
            channel_id=channel_id,
            user_id=user_id,
            ephemeral=ephemeral,
            thread_ref=thread_ref,
            message=message,
            sent_at=self.clock.now(),
            author=author,
            author_name=author_name,
        )
        self.entries.append(entry)
        while len(self.entries) > self.limit:
            self.entries.popleft()
        return entry

    def replace(self, message_id: str, message: Message) -> Entry | None:
        for index, entry in enumerate(self.entries):
            if entry.id == message_id:
                updated = replace(entry, seq=next(self._seq), message=message)
                del self.entries[index]
                self.entries.append(updated)
                return updated
        return None

    def find(self, message_id: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.id == message_id), None)

    def feed(self, person: str, after: int) -> list[Entry]:
        return [e for e in self.since(after) if e.visible_to(person)]

    def since(self, after: int) -> list[Entry]:
        """Everything added or replaced after `after`, oldest first, reading only those."""
        newer: list[Entry] = []
        for entry in reversed(self.entries):
            if entry.seq <= after:
                break
            newer.append(entry)
        newer.reverse()
        return newer

    @property
    def last_seq(self) -> int:
        # Entries stay in sequence order: additions and replacements both go to the end.
        return self.entries[-1].seq if self.entries else 0


class LocalClient:
    """Delivers neutral messages into the transcript; finds playground people by email."""

    def __init__(self, transcript: Transcript, *, people: Sequence[PlatformUser] = ()) -> None:
        self._transcript = transcript
        self._by_email = {p.email.lower(): p for p in people if p.email}

    async def lookup_by_email(self, email: str, *, channel_id: str | None = None) -> PlatformUser:
        found = self._by_email.get(email.lower())
        if found is None:
            raise UserNotFound("no playground person with this email in app.yaml")
        return found

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def limits(self) -> RateLimits:
        return RateLimits()

    async def deliver(self, delivery: Delivery) -> str:
        target = delivery.target
        if delivery.update_of is not None:
            updated = self._transcript.replace(delivery.update_of, delivery.message)
            if updated is None:
                raise DeliveryError("message to update not found", permanent=True)
            return updated.id
        if target.kind == AudienceKind.HOME:
            raise DeliveryError("the playground has no home surface", permanent=True)
        if target.kind in (AudienceKind.DM, AudienceKind.MODAL):
            # The playground has no modals: a form opened over the chat shows inline in the DM.
            entry = self._transcript.add(
                where="dm", message=delivery.message, user_id=target.user_id
            )
        elif target.kind == AudienceKind.EPHEMERAL:
            entry = self._transcript.add(
                where="channel" if target.channel_id else "dm",
                channel_id=target.channel_id,
                user_id=target.user_id,
                ephemeral=True,
                message=delivery.message,
            )
        else:
            if not target.channel_id:
                raise DeliveryError("channel message without a channel", permanent=True)
            entry = self._transcript.add(
                where="channel",
                channel_id=target.channel_id,
                thread_ref=target.thread_ref,
                message=delivery.message,
            )
        return entry.id
