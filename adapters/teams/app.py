"""The Teams adapter: botbuilder authenticates, we record, acknowledge, translate.

`POST /api/messages` takes every activity Teams sends. botbuilder validates the token;
any failure to authenticate is a 401 (botbuilder's own aiohttp handler answers some of
them with 500) and nothing is recorded. An authenticated activity is translated,
recorded in the inbox through the sink, and acknowledged; processing happens after.
Invokes get their InvokeResponse at once, well within Teams' time limit.

Before any of that, a body that is not a JSON activity with the schema's types
(`shape.py`) is a 400, or a 413 or 415; emulator mode, which has no token to check,
takes only what a client on this machine sends directly (no proxy headers, a loopback
Host) naming a loopback serviceUrl, and refuses anything else with a 403. Every refusal
is one warning in the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, Attachment

from adapters.teams import translate
from adapters.teams.auth import TeamsAuth, emulator_refusal, loopback_service_url
from adapters.teams.client import Directory, TeamsClient
from adapters.teams.render import CARD_CONTENT_TYPE, FilledForm, refused_form_card
from adapters.teams.shape import activity_problem
from bot.config import TeamsConfig
from bot.model.ports import EventSink
from bot.runtime.clock import Clock

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
CARD_ACTION_REPLY = "Got it."
CARD_TYPE = CARD_CONTENT_TYPE


class TeamsAdapter:
    def __init__(
        self, config: TeamsConfig, *, sink: EventSink, clock: Clock, loopback: bool
    ) -> None:
        if config.emulator_mode and not loopback:
            raise ValueError(
                "Teams is in emulator mode (MICROSOFT_APP_ID is empty), which turns "
                "authentication off; that is only allowed when the server listens on "
                "loopback. Set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or bind HOST "
                "to 127.0.0.1."
            )
        self._config = config
        self._sink = sink
        self._clock = clock
        self.auth = TeamsAuth(config)
        self.cloud: Any = CloudAdapter(self.auth.framework)
        self.directory = Directory(None if config.emulator_mode else config.service_url)
        self._client = TeamsClient(adapter=self.cloud, auth=self.auth, directory=self.directory)

    @property
    def platform(self) -> str:
        return translate.PLATFORM

    @property
    def client(self) -> TeamsClient:
        return self._client

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self._messages)

    async def start(self) -> None:
        """Fetch the first outgoing token, so a credentials problem shows at start."""
        try:
            await self.auth.warm()
        except Exception as error:  # MSAL raises many kinds; the sender retries later
            log.warning("teams: no outgoing token yet", extra={"error": str(error)[:300]})

    async def close(self) -> None:
        self.auth.credentials.close()

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body, activity = await self._activity(request)
        except Refused as refused:
            log.warning(
                "teams request refused",
                extra={"status": refused.status, "reason": str(refused)},
            )
            return web.json_response({"error": str(refused)}, status=refused.status)
        try:
            authenticated = await self.auth.authenticate(
                activity, request.headers.get("Authorization")
            )
        except Exception as error:  # every way a token can fail is a 401
            log.warning(
                "teams request refused",
                extra={"reason": type(error).__name__, "activity_type": body.get("type")},
            )
            return web.json_response({"error": "unauthorized"}, status=401)
        if not self._tenant_allowed(body):
            log.warning("teams activity from another tenant dropped")
            return web.Response(status=200)
        self.directory.learn(
            tenant=translate.tenant(body),
            service_url=str(body.get("serviceUrl") or "") or None,
            bot=translate.recipient_id(body),
        )
        invoke = await self.cloud.process_activity(authenticated, activity, self._turn(body))
        if invoke is None:
            return web.Response(status=200)
        return web.json_response(invoke.body, status=int(invoke.status))

    async def _activity(self, request: web.Request) -> tuple[dict[str, Any], Activity]:
        """The request's activity, once emulator mode's trust and the body's shape are checked."""
        emulator = self._config.emulator_mode
        refusal = emulator_refusal(request.headers, request.remote) if emulator else None
        if refusal is not None:
            raise Refused(403, refusal)
        body, activity = await read_activity(request)
        if emulator and not loopback_service_url(body.get("serviceUrl")):
            raise Refused(403, "emulator mode replies only to a serviceUrl on loopback")
        return body, activity

    def _tenant_allowed(self, body: dict[str, Any]) -> bool:
        """A single-tenant bot only listens to its own tenant."""
        if self._config.app_type != "SingleTenant" or not self._config.tenant_id:
            return True
        return translate.tenant(body) in ("", self._config.tenant_id)

    def _turn(self, body: dict[str, Any]) -> Any:
        """The turn handler: record the events, answer an invoke, return at once."""

        async def on_turn(turn_context: Any) -> None:
            refused = translate.refused_form(body)
            if refused is not None:
                # Nothing recorded: the card is shown again with every bad field marked.
                form, values, problems = refused
                card = refused_form_card(form, FilledForm(values=values, errors=problems))
                if body.get("type") == ActivityTypes.invoke:
                    reply = {"statusCode": 200, "type": CARD_TYPE, "value": card}
                    await turn_context.send_activity(
                        Activity(
                            type=ActivityTypes.invoke_response,
                            value=InvokeResponse(status=200, body=reply),
                        )
                    )
                else:
                    await _show_again(turn_context, body, card)
                return
            for event in translate.events(body, now=self._clock.now()):
                await self._sink(event)
            if body.get("type") == ActivityTypes.invoke:
                status, reply = invoke_reply(str(body.get("name") or ""))
                await turn_context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response,
                        value=InvokeResponse(status=status, body=reply),
                    )
                )

        return on_turn


async def _show_again(turn_context: Any, body: dict[str, Any], card: dict[str, Any]) -> None:
    """Action.Submit has no answer of its own: the card it came from is replaced in place."""
    activity = Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )
    reply_to = body.get("replyToId")
    if reply_to:
        activity.id = str(reply_to)
        await turn_context.update_activity(activity)
    else:
        await turn_context.send_activity(activity)


class Refused(Exception):
    """A request refused before anything reads it further; `status` is the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def read_activity(request: web.Request) -> tuple[dict[str, Any], Activity]:
    """The body as UTF-8 JSON (whatever charset it claims), if it is an activity."""
    if request.content_type != "application/json":
        raise Refused(415, "expected application/json")
    try:
        body = json.loads((await request.read()).decode("utf-8"))
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "the body is too large") from None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past reason
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body is not an activity")
    problem = activity_problem(body)
    if problem is not None:
        raise Refused(400, f"the body is not an activity: {problem}")
    try:
        activity = Activity().deserialize(body)
    except ValueError:  # msrest's DeserializationError is one
        raise Refused(400, "the body is not an activity") from None
    return body, activity


def invoke_reply(name: str) -> tuple[int, dict[str, Any]]:
    """The InvokeResponse for an invoke, sent before the work is done."""
    if name == translate.CARD_ACTION:
        return 200, {
            "statusCode": 200,
            "type": "application/vnd.microsoft.activity.message",
            "value": CARD_ACTION_REPLY,
        }
    if name in ("task/fetch", "task/submit"):
        return 200, {"task": {"type": "message", "value": CARD_ACTION_REPLY}}
    return 200, {}
