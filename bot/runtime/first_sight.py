"""Someone the bot has not seen before: what their platform's profile says about them.

Slack's events name a user by id only; their time zone (and name) is in their profile.
The profile is read once, when the person is first seen, and kept on their identity;
later events use the stored identity. The read starts when the event is accepted, after
the platform has had its acknowledgement, and runs outside every transaction: a slow or
rate-limited profile call never holds the database that other events are waiting for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.model.events import Actor
from bot.model.ports import PlatformUser, UserProfiles
from storage.db import SessionFactory
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

KNOWN_LIMIT = 100_000
"""People remembered as known before the memory is cleared (they are looked up again)."""

UserKey = tuple[str, str, str]


class FirstSight:
    def __init__(self, *, sessions: SessionFactory, profiles: Mapping[str, UserProfiles]) -> None:
        self._sessions = sessions
        self._profiles = profiles
        self._known: set[UserKey] = set()
        self._new: set[UserKey] = set()
        self._reading: dict[UserKey, asyncio.Task[PlatformUser | None]] = {}
        self._for_event: dict[int, UserKey] = {}

    def to_check(self, actors: list[Actor]) -> set[UserKey]:
        """Of these actors, the ones whose profile may be needed, not yet known either way."""
        return {
            key
            for actor in actors
            if actor.platform in self._profiles and not actor.time_zone
            for key in [(actor.platform, actor.workspace, actor.user_id)]
            if key not in self._known and key not in self._new
        }

    def checked(self, keys: set[UserKey], known: set[UserKey]) -> None:
        """What the inbox's own transaction found: who has an identity already, who is new."""
        for key in known:
            self._remember(key)
        self._new |= keys - known

    def notice(self, inbox_id: int, actor: Actor) -> None:
        """An event was accepted: start reading its actor's profile if they may be new."""
        key = (actor.platform, actor.workspace, actor.user_id)
        if actor.platform not in self._profiles or actor.time_zone or key in self._known:
            return
        if key not in self._reading:
            self._reading[key] = asyncio.create_task(self._read(actor))
        self._for_event[inbox_id] = key

    async def profile(self, inbox_id: int) -> PlatformUser | None:
        """The profile read for the event's actor if they were new (waited for), else None."""
        key = self._for_event.pop(inbox_id, None)
        task = None if key is None else self._reading.get(key)
        if key is None or task is None:
            return None
        try:
            return await task
        except Exception:
            log.exception("profile read failed", extra={"user_id": key[2]})
            return None
        finally:
            self._remember(key)

    def _remember(self, key: UserKey) -> None:
        """From now on the person has an identity: no more profile reads for them."""
        if key not in self._for_event.values():
            self._reading.pop(key, None)
            self._new.discard(key)
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()
        self._known.add(key)

    async def _read(self, actor: Actor) -> PlatformUser | None:
        key = (actor.platform, actor.workspace, actor.user_id)
        if key not in self._new:  # not checked with the inbox write (an event recovered)
            async with unit_of_work(self._sessions) as uow:
                if await uow.people.known_users({key}):
                    return None
        return await self._profiles[actor.platform].profile(actor.workspace, actor.user_id)


def with_profile(actor: Actor, found: PlatformUser | None) -> Actor:
    """The actor, with the time zone and name their profile gives where the event has none."""
    if found is None:
        return actor
    return actor.model_copy(
        update={
            "time_zone": actor.time_zone or _known_zone(found.time_zone),
            "display_name": actor.display_name or found.display_name,
        }
    )


def _known_zone(name: str | None) -> str | None:
    """The zone if this machine's time zone database knows it (reminders are computed in it)."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name
