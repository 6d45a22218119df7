"""Roles the runtime depends on; adapters implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.model.events import InboundEvent
from bot.model.messages import Delivery


@dataclass(frozen=True)
class Rate:
    """At most `burst` messages in any `per_seconds` window."""

    burst: int
    per_seconds: float


@dataclass(frozen=True)
class RateLimits:
    per_lane: tuple[Rate, ...] = ()
    per_workspace: tuple[Rate, ...] = ()


class DeliveryError(Exception):
    """A delivery that failed; `permanent` ones are dead-lettered, the rest retried."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.recipient_unreachable = False


class RecipientUnreachable(DeliveryError):
    """The person blocked the bot or left: permanent, and the identity is marked unreachable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)
        self.recipient_unreachable = True


class PlatformClient(Protocol):
    """Delivers rendered messages to one platform."""

    @property
    def platform(self) -> str: ...

    @property
    def limits(self) -> RateLimits: ...

    async def deliver(self, delivery: Delivery) -> str:
        """Send or update a message; return the platform reference of the message."""
        ...


@dataclass(frozen=True)
class PlatformUser:
    """A person as a platform's directory knows them."""

    user_id: str
    workspace: str
    """The Slack team, the Teams tenant, or the playground's workspace."""
    display_name: str = ""
    time_zone: str | None = None
    email: str | None = None


class UserNotFound(Exception):
    """The platform has nobody usable under this email; `reason` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DirectoryUnavailable(Exception):
    """The platform's directory cannot be asked at all (credentials, scopes, outage)."""


@runtime_checkable
class UserDirectory(Protocol):
    """Finds people by email; a PlatformClient may also be one (roster import uses it)."""

    async def lookup_by_email(self, email: str, *, channel_id: str | None = None) -> PlatformUser:
        """The user with this email; `channel_id` is the cohort's channel on the platform.

        Raises UserNotFound for this email, DirectoryUnavailable when no email can be looked up.
        """
        ...


def supports_group_dm(client: PlatformClient) -> bool:
    """Whether the client can open a multi-person conversation (AudienceKind.GROUP) by itself.

    An optional capability: clients that can say `supports_group_dm = True`; the others
    get each member's DM instead (see `Effects.group`).
    """
    return bool(getattr(client, "supports_group_dm", False))


EventSink = Callable[[InboundEvent], Awaitable[bool]]
"""Accepts a verified inbound event; False when it was a duplicate delivery."""


class Adapter(Protocol):
    """A platform: its HTTP routes in, its client out."""

    @property
    def platform(self) -> str: ...

    @property
    def client(self) -> PlatformClient: ...

    def add_routes(self, app: web.Application) -> None: ...

    async def start(self) -> None:
        """Connect what needs connecting (identity checks, sockets) before traffic flows."""
        ...

    async def close(self) -> None: ...
