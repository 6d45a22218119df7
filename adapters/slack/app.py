"""The Slack adapter: slack-bolt verifies and routes, we record, acknowledge, translate.

Every listener records the event in the inbox (through the sink) and then acknowledges:
nothing slower runs before the acknowledgement, and processing happens after it. The
bot's identity comes from one `auth.test` at start, never per request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.client import SlackClient
from adapters.slack.verify import signed_by_slack, well_formed
from bot.config import SlackConfig
from bot.model.events import InboundEvent
from bot.model.messages import form_problems
from bot.model.ports import EventSink, InboxUnavailable

log = logging.getLogger(__name__)

COMMAND = "/cohort"
ANY = re.compile(".*")
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What translating a payload of the wrong shape raises (pydantic's errors are ValueErrors)."""
_REFUSED: ContextVar[list[str]] = ContextVar("slack_refused_payloads")
UNAVAILABLE = "inbox unavailable"
"""Per request: payloads its listeners could not translate (bolt swallows their errors)."""


class SlackAdapter:
    def __init__(self, config: SlackConfig, *, sink: EventSink) -> None:
        if not (config.bot_token and config.signing_secret):
            raise ValueError("Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        self._secret = config.signing_secret
        self._config = config
        self._sink = sink
        self.web = AsyncWebClient(token=config.bot_token, base_url=config.api_url)
        self._client = SlackClient(self.web)
        self._identity: AuthorizeResult | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.bolt = AsyncApp(
            signing_secret=config.signing_secret,
            # Bolt's own client gets the token from authorize, per request.
            client=AsyncWebClient(base_url=config.api_url),
            authorize=self._authorizer(),
            logger=logging.getLogger("slack_bolt"),
            # Run each listener before answering: bolt would otherwise acknowledge Events
            # API deliveries before our listener has recorded them in the inbox. Listeners
            # only record and ack; the processing runs after, in our own intake.
            process_before_response=True,
        )
        self._listen()

    @property
    def platform(self) -> str:
        return translate.PLATFORM

    @property
    def client(self) -> SlackClient:
        return self._client

    @property
    def bot_user_id(self) -> str | None:
        return self._identity.bot_user_id if self._identity else None

    async def start(self) -> None:
        """Learn the bot's own ids once; connect Socket Mode when an app token is set."""
        if self.web.session is None:
            # One session for every Web API call: kept-alive connections, where slack_sdk
            # would otherwise open a connection (and a TLS handshake) per call.
            self.web.session = aiohttp.ClientSession()
        try:
            auth = await self.web.auth_test()
        except SlackApiError as error:
            log.error("slack auth.test failed", extra={"error": str(error.response.get("error"))})
            auth = None
        self._identity = AuthorizeResult(
            enterprise_id=auth.get("enterprise_id") if auth else None,
            team_id=auth.get("team_id") if auth else None,
            bot_user_id=auth.get("user_id") if auth else None,
            bot_id=auth.get("bot_id") if auth else None,
            bot_token=self._config.bot_token,
        )
        self._client.home_workspace = str(auth.get("team_id") or "") if auth else ""
        if self._config.app_token:
            self._socket = AsyncSocketModeHandler(self.bolt, self._config.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]  # bolt is unannotated here

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # bolt is unannotated here
        session, self.web.session = self.web.session, None
        if session is not None:
            await session.close()

    def _authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's authorize hook, answered from memory (bolt passes arguments by name)."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            if self._identity is not None:
                return self._identity
            return AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=self._config.bot_token
            )

        return authorize

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/slack/events", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        """Signature first, then the body's shape, and only then bolt: junk costs nothing."""
        raw = await request.read()
        if not signed_by_slack(request.headers, raw, self._secret):
            log.warning("slack request refused: not signed by slack")
            return web.Response(status=401, text="invalid signature")
        if not well_formed(raw, request.content_type):
            log.warning("slack request refused: malformed body")
            return web.Response(status=400, text="malformed body")
        refused: list[str] = []
        token = _REFUSED.set(refused)
        try:
            response = await self.bolt.async_dispatch(await to_bolt_request(request))
        finally:
            _REFUSED.reset(token)
        if UNAVAILABLE in refused:
            # Nothing recorded and nothing acknowledged: Slack delivers the event again.
            return web.Response(status=503, text="busy, try again", headers={"Retry-After": "1"})
        if refused:
            log.warning("slack payload refused", extra={"error": refused[0]})
            return web.Response(status=400, text="malformed payload")
        return await to_aiohttp_response(response)

    def _listen(self) -> None:
        bolt = self.bolt
        bolt.command(COMMAND)(self._on_command)
        bolt.event("message")(self._on_message)
        bolt.event("app_mention")(self._on_mention)
        bolt.event("app_home_opened")(self._on_home)
        bolt.event("member_joined_channel")(self._on_member_joined)
        bolt.shortcut(translate.FLAG_SHORTCUT)(self._on_flag)
        bolt.action(ANY)(self._on_action)
        bolt.view(ANY)(self._on_view)

        async def failed(error: Exception) -> None:
            # Bolt's own handler logs str(error), and database and SDK errors can carry
            # the request's text; the failing write has logged its redacted traceback.
            log.error("slack listener failed", extra={"error": type(error).__name__})

        bolt.error(failed)

    async def _record_then_ack(
        self, translated: Callable[[], InboundEvent | None], ack: AsyncAck
    ) -> None:
        """Inbox first, acknowledgement second: a crash in between loses nothing.

        A signed payload that does not translate (fields missing or of the wrong type) is
        acknowledged, recorded nowhere, and answered 400 by `_handle`.
        """
        try:
            event = translated()
        except MALFORMED as error:
            self._refuse(type(error).__name__)
            await ack()
            return
        if event is not None:
            try:
                await self._sink(event)
            except InboxUnavailable:
                self._refuse(UNAVAILABLE)
        await ack()

    @staticmethod
    def _refuse(reason: str) -> None:
        """Note why this request is answered 400 (or 503) instead of bolt's 200."""
        _REFUSED.get().append(reason)

    async def _on_command(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.command(body), ack)

    async def _on_message(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.direct_message(body), ack)

    async def _on_mention(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.mention(body, self.bot_user_id), ack)

    async def _on_home(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.home_opened(body), ack)

    async def _on_member_joined(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.member_joined(body, self.bot_user_id), ack)

    async def _on_flag(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.flag_shortcut(body), ack)

    async def _on_action(self, body: dict[str, Any], ack: AsyncAck) -> None:
        await self._record_then_ack(lambda: translate.block_action(body), ack)

    async def _on_view(self, body: dict[str, Any], ack: AsyncAck) -> None:
        """A modal submitted: a bad one stays open with every bad field named, unrecorded."""
        try:
            event = translate.view_submission(body)
            problems = form_problems(translate.form_rules(body), event.values)
        except MALFORMED as error:
            self._refuse(type(error).__name__)
            await ack()
            return
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await self._record_then_ack(lambda: event, ack)
