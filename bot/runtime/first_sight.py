"""Someone the bot has not seen before: what their platform's profile says about them.

Slack's events name a user by id only; their time zone (and name) is in their profile.
The profile is read once, when the person is first seen, and kept on their identity;
later events use the stored identity. It runs while the event is processed, after the
platform has had its acknowledgement, so a slow profile never delays one.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.model.events import Actor
from bot.model.ports import UserProfiles
from storage.repositories.people import PeopleRepository


async def with_profile(
    actor: Actor, *, people: PeopleRepository, profiles: Mapping[str, UserProfiles]
) -> Actor:
    """The actor, with the time zone and name from their profile if they are new here."""
    source = profiles.get(actor.platform)
    if source is None or actor.time_zone:
        return actor
    if await people.find_identity(actor.platform, actor.workspace, actor.user_id) is not None:
        return actor
    found = await source.profile(actor.workspace, actor.user_id)
    if found is None:
        return actor
    return actor.model_copy(
        update={
            "time_zone": _known_zone(found.time_zone),
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
