"""Delivers rendered messages to Teams through botbuilder's CloudAdapter and connector.

Addresses, in order of preference:
- a DM goes to the person's stored personal conversation (`Target.conversation`, by
  `continue_conversation` with the bot's app id), else to the chat the request came
  from (the reply token), else to a personal conversation created for them
  (`create_conversation` with tenant and member; Teams returns the existing one if any);
- a channel post goes to the channel's conversation on the tenant's service URL;
- a thread reply is a reply to the parent activity (`replyToId`) in the parent's thread;
- Teams has no ephemeral messages: an "only you see this" reply goes privately to the
  person's DM, and when the bot cannot open one (not installed for them) it is posted
  as a reply to their message where they asked;
- an update replaces the sent activity (`update_activity`) named by its reference.

botbuilder's HTTP stack does not retry 429, 412 or 5xx for sends, and retries PUTs
blindly; retries are turned off in it and left to the sender, which honours
Retry-After and backs off with jitter.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from adapters.teams.auth import TeamsAuth
from adapters.teams.errors import mapped, transient
from adapters.teams.members import LOOKUP_ATTEMPTS, lookup_wait, member_user
from adapters.teams.refs import CHANNEL_ID, Ref, Sent, bot_id
from adapters.teams.render import render
from bot.model.messages import AudienceKind, Delivery, Target
from bot.model.ports import (
    DeliveryError,
    DirectoryUnavailable,
    PlatformUser,
    Rate,
    RateLimits,
    RecipientUnreachable,
)

log = logging.getLogger(__name__)

# Teams' published bot limits per conversation, and about 50 requests a second per tenant.
TEAMS_LIMITS = RateLimits(
    per_lane=(Rate(7, 1.0), Rate(8, 2.0), Rate(60, 30.0), Rate(1800, 3600.0)),
    # About 50 requests a second per bot and tenant: start below it and learn.
    start_rate=20.0,
)
MAX_REMEMBERED = 10_000

Send = Callable[[Any, str], Awaitable[str]]
Sleep = Callable[[float], Awaitable[None]]


class Directory:
    """What the adapter learnt from authenticated traffic: service URLs and bot ids.

    In memory: after a restart, stored conversation references (which carry their
    service URL) and the configured service URL cover the gap.
    """

    def __init__(self, default_service_url: str | None) -> None:
        self.default_service_url = default_service_url
        self._service_urls: OrderedDict[str, str] = OrderedDict()
        self._bots: dict[str, str] = {}
        self._personal: OrderedDict[tuple[str, str], Ref] = OrderedDict()

    def learn(self, *, tenant: str, service_url: str | None, bot: str | None) -> None:
        if service_url:
            self._service_urls[tenant] = service_url
            self._service_urls.move_to_end(tenant)
            _bound(self._service_urls)
        if bot:
            self._bots[tenant] = bot

    def service_url(self, tenant: str) -> str | None:
        """The tenant's service URL, else the last one seen, else the configured one."""
        if tenant in self._service_urls:
            return self._service_urls[tenant]
        if self._service_urls:
            return next(reversed(self._service_urls.values()))
        return self.default_service_url

    def bot(self, tenant: str) -> str | None:
        return self._bots.get(tenant) or next(iter(self._bots.values()), None)

    def personal(self, tenant: str, user_id: str) -> Ref | None:
        return self._personal.get((tenant, user_id))

    def remember_personal(self, tenant: str, user_id: str, ref: Ref) -> None:
        self._personal[(tenant, user_id)] = ref
        self._personal.move_to_end((tenant, user_id))
        _bound(self._personal)


def _bound(mapping: OrderedDict[Any, Any]) -> None:
    while len(mapping) > MAX_REMEMBERED:
        mapping.popitem(last=False)


class TeamsClient:
    def __init__(
        self,
        *,
        adapter: Any,
        auth: TeamsAuth,
        directory: Directory,
        execute: bool = True,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._adapter = adapter
        self._auth = auth
        self._directory = directory
        self._execute = execute
        self._sleep = sleep

    @property
    def platform(self) -> str:
        return "teams"

    @property
    def home_workspace(self) -> str:
        """The configured tenant: where a message naming no tenant goes."""
        return self._auth.config.tenant_id or ""

    @property
    def limits(self) -> RateLimits:
        return TEAMS_LIMITS

    async def deliver(self, delivery: Delivery) -> str:
        try:
            await self._auth.warm()
            return await self._deliver(delivery)
        except HttpOperationError as error:
            raise mapped(error) from error
        except (PermissionError, ValueError) as error:
            # MSAL could not get a token (Azure AD down, or credentials refused).
            raise transient(f"no token: {error}") from error
        except (ClientRequestError, OSError) as error:
            raise transient(f"network: {type(error).__name__}") from error

    async def lookup_by_email(self, email: str, *, channel_id: str | None = None) -> PlatformUser:
        """The member of the cohort's team whose sign-in name (UPN) is this email.

        Asks the Bot Connector's `GET /v3/conversations/{channel}/members/{upn}`, which
        answers for members of the team the channel belongs to; waits out 429s.
        """
        if not channel_id:
            raise DirectoryUnavailable(
                "teams: the cohort has no Teams channel (channels.teams in app.yaml); "
                "members are looked up in its team"
            )
        tenant = self._auth.config.tenant_id
        service_url = self._directory.service_url(tenant)
        if not service_url:
            raise DirectoryUnavailable("teams: no Bot Connector service URL is known yet")
        for attempt in range(1, LOOKUP_ATTEMPTS + 1):
            try:
                await self._auth.warm()
                member = await self._member(service_url, channel_id, email)
            except HttpOperationError as error:
                wait = lookup_wait(error, attempt)
                await self._sleep(wait)
                continue
            except (PermissionError, ValueError) as error:
                raise DirectoryUnavailable(f"teams: no token: {error}") from error
            except (ClientRequestError, OSError) as error:
                if attempt == LOOKUP_ATTEMPTS:
                    raise DirectoryUnavailable(f"teams: network: {type(error).__name__}") from error
                await self._sleep(float(2 ** (attempt - 1)))
                continue
            return member_user(member, email, tenant)
        raise DirectoryUnavailable(f"teams: no answer after {LOOKUP_ATTEMPTS} attempts")

    async def _member(self, service_url: str, conversation_id: str, member_id: str) -> Any:
        found: list[Any] = []

        async def turn(turn_context: Any) -> None:
            async with _connector(turn_context) as connector:
                found.append(
                    await connector.conversations.get_conversation_member(
                        conversation_id, member_id
                    )
                )

        reference = ConversationReference(
            channel_id=CHANNEL_ID,
            service_url=service_url,
            conversation=ConversationAccount(id=conversation_id),
            bot=ChannelAccount(id=self._bot("")),
        )
        await self._adapter.continue_conversation(reference, turn, bot_app_id=self._auth.app_id)
        return found[0]

    async def _deliver(self, delivery: Delivery) -> str:
        target = delivery.target
        activities = render(delivery.message, execute=self._execute)
        if delivery.update_of is not None:
            sent = Sent.decode(delivery.update_of)
            if sent is None:
                raise DeliveryError("teams: not a message reference to update", permanent=True)
            await self._update(self._service_url_of(target), sent, activities[0])
            return delivery.update_of
        if target.kind == AudienceKind.HOME:
            raise DeliveryError("teams: there is no home page in Teams", permanent=True)
        if target.kind == AudienceKind.CHANNEL:
            return await self._post(self._channel(target), activities)
        if target.kind == AudienceKind.THREAD:
            return await self._reply_in_thread(target, activities)
        if target.kind == AudienceKind.EPHEMERAL:
            return await self._ephemeral(target, activities)
        return await self._dm(target, activities)  # DM, and MODAL: forms are inline cards

    def _channel(self, target: Target) -> Ref:
        if not target.channel_id:
            raise DeliveryError("teams: channel message without a channel", permanent=True)
        return Ref(self._service_url(target), target.channel_id)

    def _service_url_of(self, target: Target) -> str:
        """Where a message to `target` went: its stored chat, its request, or the tenant's."""
        stored = (target.conversation or {}).get("serviceUrl")
        if stored:
            return str(stored)
        token = Ref.decode(target.reply_token)
        if token is not None:
            return token.service_url
        known = self._directory.personal(target.workspace, target.user_id or "")
        return known.service_url if known is not None else self._service_url(target)

    def _service_url(self, target: Target) -> str:
        found = self._directory.service_url(target.workspace or self._auth.config.tenant_id)
        if not found:
            raise DeliveryError(
                "teams: no service URL known yet (emulator mode learns it from traffic)",
                permanent=True,
            )
        return found

    async def _reply_in_thread(self, target: Target, activities: list[dict[str, Any]]) -> str:
        parent = Sent.decode(target.thread_ref)
        if parent is None:
            raise DeliveryError("teams: thread reply without a parent message", permanent=True)
        conversation = parent.conversation_id
        if conversation.startswith("19:") and ";messageid=" not in conversation:
            # A channel post's replies live in the conversation of its thread.
            conversation = f"{conversation};messageid={parent.activity_id}"
        return await self._post(
            Ref(self._service_url_of(target), conversation),
            activities,
            reply_to=parent.activity_id,
        )

    async def _dm(self, target: Target, activities: list[dict[str, Any]]) -> str:
        stored = target.conversation or {}
        if stored.get("serviceUrl") and (stored.get("conversation") or {}).get("id"):
            reference = ConversationReference().deserialize(stored)
            reference.activity_id = None
            address = Ref(reference.service_url, reference.conversation.id)
            return await self._post(address, activities, reference=reference)
        token = Ref.decode(target.reply_token) if target.kind == AudienceKind.DM else None
        known = token or self._directory.personal(target.workspace, target.user_id or "")
        if known is not None:
            return await self._post(Ref(known.service_url, known.conversation_id), activities)
        return await self._create_personal(target, activities)

    async def _ephemeral(self, target: Target, activities: list[dict[str, Any]]) -> str:
        try:
            return await self._dm(target, activities)
        except HttpOperationError as error:
            problem = mapped(error)
            if not isinstance(problem, RecipientUnreachable):
                raise
            origin = Ref.decode(target.reply_token)
            if origin is None:
                # They can be reached where they are, just not privately: not unreachable.
                raise DeliveryError(problem.reason, permanent=True) from error
            log.info("no personal chat for an ephemeral reply; replying in the conversation")
            return await self._post(
                Ref(origin.service_url, origin.conversation_id),
                activities,
                reply_to=origin.activity_id or None,
            )

    async def _create_personal(self, target: Target, activities: list[dict[str, Any]]) -> str:
        tenant = target.workspace or self._auth.config.tenant_id
        if not target.user_id or not tenant:
            raise DeliveryError(
                "teams: a new personal chat needs a user and tenant", permanent=True
            )
        service_url = self._service_url(target)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=self._bot(tenant)),
            members=[ChannelAccount(id=target.user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        sent: list[str] = []

        async def created(turn_context: Any) -> None:
            address = Ref(service_url, str(turn_context.activity.conversation.id))
            self._directory.remember_personal(tenant, target.user_id or "", address)
            sent.append(await self._send_all(turn_context, address, activities, None))

        await self._adapter.create_conversation(
            self._auth.app_id, created, params, channel_id=CHANNEL_ID, service_url=service_url
        )
        return sent[0]

    def _bot(self, tenant: str) -> str:
        if self._auth.app_id:
            return bot_id(self._auth.app_id)
        return self._directory.bot(tenant) or "bot"

    async def _post(
        self,
        address: Ref,
        activities: list[dict[str, Any]],
        *,
        reply_to: str | None = None,
        reference: Any = None,
    ) -> str:
        """Send every activity in order in one proactive turn; the first one's reference."""
        if reference is None:
            reference = ConversationReference(
                channel_id=CHANNEL_ID,
                service_url=address.service_url,
                conversation=ConversationAccount(id=address.conversation_id),
                bot=ChannelAccount(id=self._bot("")),
            )
        sent: list[str] = []

        async def turn(turn_context: Any) -> None:
            sent.append(await self._send_all(turn_context, address, activities, reply_to))

        await self._adapter.continue_conversation(reference, turn, bot_app_id=self._auth.app_id)
        return sent[0]

    async def _send_all(
        self,
        turn_context: Any,
        address: Ref,
        activities: list[dict[str, Any]],
        reply_to: str | None,
    ) -> str:
        async with _connector(turn_context) as connector:
            first = ""
            for payload in activities:
                activity = _activity(payload, address.conversation_id)
                conversations = connector.conversations
                if reply_to:
                    activity.reply_to_id = reply_to
                    response = await conversations.reply_to_activity(
                        address.conversation_id, reply_to, activity
                    )
                else:
                    response = await conversations.send_to_conversation(
                        address.conversation_id, activity
                    )
                first = first or Sent(address.conversation_id, str(response.id or "")).encode()
            return first

    async def _update(self, service_url: str, sent: Sent, payload: dict[str, Any]) -> None:
        async def turn(turn_context: Any) -> None:
            async with _connector(turn_context) as connector:
                activity = _activity(payload, sent.conversation_id)
                activity.id = sent.activity_id
                await connector.conversations.update_activity(
                    sent.conversation_id, sent.activity_id, activity
                )

        reference = ConversationReference(
            channel_id=CHANNEL_ID,
            service_url=service_url,
            conversation=ConversationAccount(id=sent.conversation_id),
            bot=ChannelAccount(id=self._bot("")),
        )
        await self._adapter.continue_conversation(reference, turn, bot_app_id=self._auth.app_id)


def _connector(turn_context: Any) -> Any:
    """The turn's connector client, with its own retries off (the sender retries).

    Used as an async context manager, so its HTTP session is closed after the turn.
    """
    connector = turn_context.turn_state[turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY]
    connector.config.retry_policy.retries = 0
    return connector


def _activity(payload: dict[str, Any], conversation_id: str) -> Any:
    """A botbuilder Activity from rendered JSON (mentions need their own model)."""
    entities = payload.get("entities") or []
    activity = Activity().deserialize({k: v for k, v in payload.items() if k != "entities"})
    activity.conversation = ConversationAccount(id=conversation_id)
    if entities:
        activity.entities = [
            Mention(
                type="mention",
                text=entity["text"],
                mentioned=ChannelAccount(
                    id=entity["mentioned"]["id"], name=entity["mentioned"]["name"]
                ),
            )
            for entity in entities
        ]
    return activity
