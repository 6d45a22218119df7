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
    """Published limits of one channel or conversation, kept exactly."""
    start_rate: float | None = None
    """Posts per second a workspace starts at before its real limit is learned (None: no
    pacing until the workspace first answers 429)."""


class DeliveryError(Exception):
    """A delivery that failed; `permanent` ones are dead-lettered, the rest retried."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        """A 429: the workspace is over its limit; never the message's fault."""
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


@runtime_checkable
class UserProfiles(Protocol):
    """Reads one user's profile by id; for platforms whose events do not say who they are.

    Slack's events carry a bare user id: the time zone and name are in the profile.
    """

    async def profile(self, workspace: str, user_id: str) -> PlatformUser | None:
        """The user's profile, or None when the platform cannot say now (never raises)."""
        ...


def supports_group_dm(client: PlatformClient) -> bool:
    """Whether the client can open a multi-person conversation (AudienceKind.GROUP) by itself.

    An optional capability: clients that can say `supports_group_dm = True`; the others
    get each member's DM instead (see `Effects.group`).
    """
    return bool(getattr(client, "supports_group_dm", False))


def spends_workspace_budget(client: PlatformClient, delivery: Delivery) -> bool:
    """Whether sending `delivery` counts against the workspace's posting limit.

    An optional capability: a client says `spends_workspace_budget(delivery)`; a Slack reply
    through a response_url does not (it is limited per URL, not per workspace).
    """
    check = getattr(client, "spends_workspace_budget", None)
    return True if check is None else bool(check(delivery))


def home_workspace(client: PlatformClient) -> str:
    """The workspace a message with no workspace named goes to ("" when the client cannot say).

    An optional capability: a client says `home_workspace` (Teams: the configured tenant;
    Slack: the team its token belongs to). Posts queued without a workspace (a timer's
    channel post) then share that workspace's limits with everything else sent there.
    """
    return str(getattr(client, "home_workspace", "") or "")


async def find_delivered(client: PlatformClient, delivery: Delivery) -> str | None:
    """The platform reference of `delivery` if it already reached its conversation.

    An optional capability, asked only for the few messages in flight when the bot died: a
    client that can read a conversation's recent history (Slack, by message metadata) says
    `find_delivered(delivery)`; the others cannot tell, and the message is sent again.
    """
    finder = getattr(client, "find_delivered", None)
    if finder is None:
        return None
    found = await finder(delivery)
    return found if isinstance(found, str) else None


EventSink = Callable[[InboundEvent], Awaitable[bool]]
"""Accepts a verified inbound event; False when it was a duplicate delivery.

Raises `InboxUnavailable` when the event could not be recorded in time.
"""


class InboxUnavailable(Exception):
    """The inbox could not take the event within the acknowledgement budget (a busy or
    failing database): answer 503, so the platform delivers it again later."""


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
