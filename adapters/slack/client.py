"""Delivers rendered messages through the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.render import chunks, fallback_text, home_view, modal_view, render_blocks
from bot.model.messages import AudienceKind, Delivery
from bot.model.ports import (
    DeliveryError,
    DirectoryUnavailable,
    PlatformUser,
    Rate,
    RateLimits,
    RecipientUnreachable,
    UserNotFound,
)

log = logging.getLogger(__name__)

# Slack allows about one message per second per channel with short bursts, and several
# hundred per minute per workspace.
SLACK_LIMITS = RateLimits(
    # One post per second per channel, with room for the clock skew between us and Slack.
    per_lane=(Rate(burst=1, per_seconds=1.1),),
    # Slack's workspace limit is "several hundred per minute": start at 300 and learn.
    start_rate=5.0,
)
UNREACHABLE = {"user_not_found", "cannot_dm_bot", "user_disabled", "user_not_visible"}
TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}

OUTBOX_EVENT = "cohortbot_outbox"
"""The metadata event type each post carries, with its outbox id: after a crash, the bot
reads a conversation's recent history to tell what already went out."""
HISTORY_LOOKBACK = 50
"""Recent messages read when looking for a post that may already have gone."""

PROFILE_TIMEOUT = 5.0
"""Seconds one users.info may take before the person is handled without it."""
LOOKUP_ATTEMPTS = 5
"""Tries of one users.lookupByEmail through rate limits and transient failures."""
# The token itself is the problem: no lookup will work until the app is fixed.
DIRECTORY_BROKEN = {
    "missing_scope": "the bot token lacks the users:read.email scope; add it and reinstall",
    "not_authed": "no bot token was sent",
    "invalid_auth": "the bot token is not valid",
    "account_inactive": "the bot token belongs to a deactivated app or user",
    "token_revoked": "the bot token was revoked",
    "no_permission": "the bot token may not read users",
}

Sleep = Callable[[float], Awaitable[None]]


class SlackClient:
    def __init__(self, web: AsyncWebClient, *, sleep: Sleep = asyncio.sleep) -> None:
        self._web = web
        self._sleep = sleep
        self.home_workspace = ""
        """The team the bot token belongs to, once auth.test has said (see SlackAdapter)."""

    @property
    def platform(self) -> str:
        return "slack"

    @property
    def limits(self) -> RateLimits:
        return SLACK_LIMITS

    @property
    def supports_group_dm(self) -> bool:
        """Slack opens a group DM (mpim) for up to eight people with conversations.open."""
        return True

    def spends_workspace_budget(self, delivery: Delivery) -> bool:
        """A response_url reply is limited per URL (5 in 30 minutes), not per workspace."""
        return not _is_response_url(delivery)

    async def find_delivered(self, delivery: Delivery) -> str | None:
        """The reference of the post carrying this outbox id in its conversation, if any.

        Only new posts can be found (updates and home pages are idempotent anyway;
        ephemeral answers and thread replies are not in a conversation's history).
        """
        target = delivery.target
        if delivery.update_of is not None or target.kind not in (
            AudienceKind.DM,
            AudienceKind.CHANNEL,
            AudienceKind.GROUP,
        ):
            return None
        try:
            channel = await self._conversation_of(delivery)
            history = await self._web.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except SlackApiError as error:
            raise _mapped(error) from error
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT
                and payload.get("outbox_id") == delivery.outbox_id
            ):
                return f"{channel}:{message.get('ts', '')}"
        return None

    async def _conversation_of(self, delivery: Delivery) -> str:
        target = delivery.target
        if target.kind == AudienceKind.CHANNEL:
            return target.channel_id or ""
        users = ",".join(target.members) if target.kind == AudienceKind.GROUP else target.user_id
        opened = await self._web.conversations_open(users=users or "")
        return str(opened["channel"]["id"])

    async def deliver(self, delivery: Delivery) -> str:
        try:
            return await self._deliver(delivery)
        except SlackApiError as error:
            raise _mapped(error) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise DeliveryError(f"network: {type(error).__name__}") from error

    async def lookup_by_email(self, email: str, *, channel_id: str | None = None) -> PlatformUser:
        """users.lookupByEmail, waiting out 429s for their Retry-After."""
        for attempt in range(1, LOOKUP_ATTEMPTS + 1):
            try:
                response = await self._web.users_lookupByEmail(email=email)
            except SlackApiError as error:
                wait = _lookup_wait(error, attempt)
                if wait is None:
                    raise
                await self._sleep(wait)
                continue
            except (TimeoutError, aiohttp.ClientError) as error:
                if attempt == LOOKUP_ATTEMPTS:
                    raise DirectoryUnavailable(f"slack: network: {type(error).__name__}") from error
                await self._sleep(float(2 ** (attempt - 1)))
                continue
            return _platform_user(response.get("user") or {}, email)
        raise DirectoryUnavailable(f"slack: no answer after {LOOKUP_ATTEMPTS} attempts")

    async def profile(self, workspace: str, user_id: str) -> PlatformUser | None:
        """users.info, asked once when someone is first seen; None if Slack cannot say now.

        One try with a short timeout: it runs before that person's first event is
        handled, and without it they simply start in UTC and confirm their zone.
        """
        try:
            async with asyncio.timeout(PROFILE_TIMEOUT):
                response = await self._web.users_info(user=user_id)
            found = _platform_user(response.get("user") or {}, "")
        except (SlackApiError, UserNotFound, TimeoutError, aiohttp.ClientError) as error:
            log.warning(
                "slack users.info gave no profile",
                extra={"user_id": user_id, "error": type(error).__name__},
            )
            return None
        return replace(
            found,
            workspace=found.workspace or workspace,
            email=found.email or None,
        )

    async def _deliver(self, delivery: Delivery) -> str:
        target, message = delivery.target, delivery.message
        if delivery.update_of is not None:
            channel, _, ts = delivery.update_of.partition(":")
            blocks = chunks(render_blocks(message, outbox_id=delivery.outbox_id))[0]
            await self._web.chat_update(
                channel=channel, ts=ts, text=fallback_text(message), blocks=blocks
            )
            return delivery.update_of
        if target.kind == AudienceKind.HOME:
            await self._web.views_publish(user_id=target.user_id or "", view=home_view(message))
            return f"home:{target.user_id}"
        if target.kind == AudienceKind.MODAL:
            response = await self._web.views_open(
                trigger_id=target.reply_token or "", view=modal_view(message)
            )
            return f"view:{response['view']['id']}"
        if target.kind == AudienceKind.EPHEMERAL:
            return await self._ephemeral(delivery)
        if target.kind == AudienceKind.GROUP:
            # conversations.open returns the same mpim for the same people every time.
            opened = await self._web.conversations_open(users=",".join(target.members))
            return await self._post(delivery, str(opened["channel"]["id"]), None)
        where = target.user_id if target.kind == AudienceKind.DM else target.channel_id
        thread = target.thread_ref.partition(":")[2] if target.thread_ref else None
        return await self._post(delivery, where or "", thread)

    async def _post(self, delivery: Delivery, channel: str, thread_ts: str | None) -> str:
        """Post every chunk in order; the first message is the one later updates replace."""
        first: str | None = None
        text = fallback_text(delivery.message)
        for index, blocks in enumerate(
            chunks(render_blocks(delivery.message, outbox_id=delivery.outbox_id))
        ):
            response = await self._web.chat_postMessage(
                channel=channel,
                text=text if index == 0 else "(continued)",
                blocks=blocks or None,
                thread_ts=thread_ts,
                unfurl_links=False,
                # The first part only: it stands for the whole message.
                metadata=_outbox_metadata(delivery) if index == 0 else None,
            )
            first = first or f"{response['channel']}:{response['ts']}"
        return first or ""

    async def _ephemeral(self, delivery: Delivery) -> str:
        target, message = delivery.target, delivery.message
        blocks = chunks(render_blocks(message, outbox_id=delivery.outbox_id))[0]
        # A button click's reply token is its trigger_id (for opening modals), not a
        # response_url: only a URL can be answered through the webhook.
        if _is_response_url(delivery) and target.reply_token:
            webhook = AsyncWebhookClient(
                url=target.reply_token, session=getattr(self._web, "session", None)
            )
            response = await webhook.send(
                text=fallback_text(message),
                blocks=blocks or None,
                response_type="ephemeral",
                replace_original=False,
            )
            if response.status_code == 200:
                return "ephemeral"
            log.info(
                "response_url refused; posting ephemeral", extra={"status": response.status_code}
            )
        result = await self._web.chat_postEphemeral(
            channel=target.channel_id or "",
            user=target.user_id or "",
            text=fallback_text(message),
            blocks=blocks or None,
        )
        return f"ephemeral:{result.get('message_ts', '')}"


def _is_response_url(delivery: Delivery) -> bool:
    token = delivery.target.reply_token
    return (
        delivery.target.kind == AudienceKind.EPHEMERAL
        and token is not None
        and token.startswith(("https://", "http://"))
    )


def _outbox_metadata(delivery: Delivery) -> dict[str, Any]:
    return {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": delivery.outbox_id}}


def _lookup_wait(error: SlackApiError, attempt: int) -> float | None:
    """Seconds to wait before asking again; raises when asking again cannot help."""
    response = error.response
    status = response.status_code
    code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    if code == "users_not_found":
        raise UserNotFound("no Slack user with this email") from error
    if code in DIRECTORY_BROKEN:
        raise DirectoryUnavailable(f"slack: {code}: {DIRECTORY_BROKEN[code]}") from error
    retryable = status == 429 or code == "ratelimited" or status >= 500 or code in TRANSIENT
    if not retryable:
        raise UserNotFound(f"Slack refused the lookup ({code or status})") from error
    if attempt == LOOKUP_ATTEMPTS:
        raise DirectoryUnavailable(
            f"slack: {code or status} on {LOOKUP_ATTEMPTS} tries in a row"
        ) from error
    if status == 429 or code == "ratelimited":
        return _retry_after(response.headers)
    return float(2 ** (attempt - 1))


def _platform_user(user: dict[str, Any], email: str) -> PlatformUser:
    if user.get("deleted"):
        raise UserNotFound("the Slack account with this email is deactivated")
    if user.get("is_bot") or user.get("is_app_user"):
        raise UserNotFound("this email belongs to a Slack app, not a person")
    profile = user.get("profile") or {}
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or ""
    )
    zone = user.get("tz")
    return PlatformUser(
        user_id=str(user.get("id", "")),
        workspace=str(user.get("team_id") or ""),
        display_name=str(name),
        time_zone=zone if isinstance(zone, str) and zone else None,
        email=str(profile.get("email") or email),
    )


def _mapped(error: SlackApiError) -> DeliveryError:
    response = error.response
    status = response.status_code
    code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    if status == 429 or code == "ratelimited":
        retry_after = _retry_after(response.headers)
        return DeliveryError("slack: rate limited", retry_after=retry_after, rate_limited=True)
    if code in UNREACHABLE:
        return RecipientUnreachable(f"slack: {code}")
    if status >= 500 or code in TRANSIENT:
        return DeliveryError(f"slack: {code or status}")
    return DeliveryError(f"slack: {code or status}", permanent=True)


def _retry_after(headers: Any) -> float:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                break
    return 1.0
