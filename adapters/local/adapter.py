"""The playground: a page at `/` and a small JSON API that turn clicks into neutral events."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from adapters.local.guard import (
    SECRET_HEADER,
    TOKEN_HEADER,
    HostPolicy,
    PageSecrets,
    cookie_name,
    token_matches,
)
from adapters.local.platform import PLATFORM, Entry, LocalClient, Transcript
from bot.model.events import (
    FLAG_ACTION,
    ActionInvoked,
    Actor,
    CommandInvoked,
    FlaggedMessage,
    FormSubmitted,
    InboundEvent,
    MessageReceived,
)
from bot.model.messages import Message, form_problems
from bot.model.ports import EventSink, PlatformUser
from bot.runtime.clock import Clock

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_TEXT = 4000
SECRET_SLOT = '<meta name="playground-secret" content="">'  # noqa: S105 - an empty slot
"""Where the page gets its secret, which its script sends back with every API call."""
JSON = "application/json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class PlaygroundPerson:
    id: str
    name: str
    time_zone: str = "UTC"
    email: str | None = None


@dataclass(frozen=True)
class PlaygroundChannel:
    id: str
    name: str


RolesLookup = Callable[[], Awaitable[dict[str, list[str]]]]
"""Roles per local user id, read from the bot's memberships when the page asks."""


class LocalAdapter:
    def __init__(
        self,
        *,
        workspace: str,
        people: list[PlaygroundPerson],
        channels: list[PlaygroundChannel],
        sink: EventSink,
        roles: RolesLookup,
        clock: Clock,
        token: str | None = None,
        hosts: HostPolicy | None = None,
        secret_key: Callable[[], str] | None = None,
    ) -> None:
        self._workspace = workspace
        self._people = {person.id: person for person in people}
        self._channels = channels
        self._sink = sink
        self._roles = roles
        self._clock = clock
        self._token = token
        self._hosts = hosts or HostPolicy()
        self._secrets = PageSecrets(secret_key)
        self.transcript = Transcript(clock)
        self._client = LocalClient(
            self.transcript,
            people=[
                PlatformUser(p.id, workspace, p.name, time_zone=p.time_zone, email=p.email)
                for p in people
            ],
        )

    def add_people(self, people: list[PlaygroundPerson]) -> None:
        """Offer more people to act as (a simulated run's staff); known ids stay as they are."""
        for person in people:
            self._people.setdefault(person.id, person)

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def client(self) -> LocalClient:
        return self._client

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def add_routes(self, app: web.Application) -> None:
        host, origin, token = self._check_host, self._check_origin, self._check_token
        api = (host, origin, token, self._check_secret)
        writes = (host, origin, self._check_json, token, self._check_secret)
        app.router.add_get("/", self._guarded(self._page, host, origin, token))
        for name in ("playground.js", "playground.css"):
            app.router.add_get(f"/{name}", self._guarded(self._static(name), host))
        app.router.add_get("/playground/api/state", self._guarded(self._state, *api))
        app.router.add_get("/playground/api/feed", self._guarded(self._feed, *api))
        app.router.add_post("/playground/api/say", self._guarded(self._say, *writes))
        app.router.add_post("/playground/api/action", self._guarded(self._action, *writes))
        app.router.add_post("/playground/api/form", self._guarded(self._form, *writes))
        app.router.add_post("/playground/api/flag", self._guarded(self._flag, *writes))

    @staticmethod
    def _guarded(handler: Handler, *checks: Callable[[web.Request], None]) -> Handler:
        """`handler` behind `checks`; the first that fails refuses the request."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                for check in checks:
                    check(request)
                return await handler(request)
            except LocalInputError as problem:
                raise _refused(request, problem) from None

        return guarded

    def _check_host(self, request: web.Request) -> None:
        """Only a host name the playground answers to: no DNS rebinding."""
        if not self._hosts.allows(request.headers.get("Host")):
            raise Refusal(
                403, "This host name is not the playground's: open it by its own address."
            )

    def _check_origin(self, request: web.Request) -> None:
        """A browser's request from another origin is refused."""
        origin = request.headers.get("Origin")
        if not self._hosts.same_origin(origin, request.headers.get("Host", "")):
            raise Refusal(403, "The playground answers only its own page, not other sites.")

    @staticmethod
    def _check_json(request: web.Request) -> None:
        """Writes are JSON: a cross-origin form or text/plain post is refused unread."""
        if request.content_type != JSON:
            raise Refusal(403, "The playground API takes only application/json from its own page.")

    def _check_token(self, request: web.Request) -> None:
        """The configured token, in its header (or, to read, in the URL)."""
        if self._token is None:
            return
        given = request.headers.get(TOKEN_HEADER)
        if given is None and request.method != "POST":
            given = request.query.get("token")
        if token_matches(given, self._token):
            return
        if given is None and "token" in request.query:
            raise Refusal(401, f"Send the playground's token in {TOKEN_HEADER}, not in the URL.")
        raise Refusal(401, "This playground needs its token: open the page as /?token=...")

    def _check_secret(self, request: web.Request) -> None:
        """The page's secret in its header, matching the cookie the page set."""
        cookie = request.cookies.get(cookie_name(request.headers.get("Host", "")))
        if not self._secrets.valid(request.headers.get(SECRET_HEADER), cookie):
            raise Refusal(
                403, "This request did not come from the playground page: reload the page."
            )

    async def _page(self, request: web.Request) -> web.StreamResponse:
        """The page, with its secret in it and in its cookie.

        A browser that has a valid secret keeps it, so every tab it opens has the same.
        """
        name = cookie_name(request.headers.get("Host", ""))
        kept = request.cookies.get(name)
        secret = kept if kept and self._secrets.valid(kept, kept) else self._secrets.issue()
        html = (STATIC / "playground.html").read_text(encoding="utf-8")
        response = web.Response(
            text=html.replace(SECRET_SLOT, SECRET_SLOT.replace('""', f'"{secret}"'), 1),
            content_type="text/html",
            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
        )
        response.set_cookie(
            name,
            secret,
            path="/",
            httponly=True,
            samesite="Strict",
        )
        return response

    @staticmethod
    def _static(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(_request: web.Request) -> web.StreamResponse:
            return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

        return serve

    async def _state(self, request: web.Request) -> web.Response:
        roles = await self._roles()
        return web.json_response(
            {
                "workspace": self._workspace,
                "people": [
                    {
                        "id": person.id,
                        "name": person.name,
                        "time_zone": person.time_zone,
                        "roles": sorted(roles.get(person.id, [])),
                    }
                    for person in self._people.values()
                ],
                "channels": [{"id": c.id, "name": c.name} for c in self._channels],
            }
        )

    async def _feed(self, request: web.Request) -> web.Response:
        person = self._person(request.query.get("person", ""))
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            raise Refusal(400, "'after' must be a number") from None
        entries = self.transcript.feed(person.id, after)
        return web.json_response(
            {"seq": self.transcript.last_seq, "messages": [e.as_json() for e in entries]}
        )

    def _person(self, person_id: str) -> PlaygroundPerson:
        person = self._people.get(person_id)
        if person is None:
            raise LocalInputError(404, f"unknown person '{person_id}'")
        return person

    def _actor(self, person: PlaygroundPerson) -> Actor:
        return Actor(
            platform=PLATFORM,
            workspace=self._workspace,
            user_id=person.id,
            display_name=person.name,
            time_zone=person.time_zone,
            email=person.email,
        )

    async def _say(self, request: web.Request) -> web.Response:
        body = await Body.read(request)
        where = body.text("where", default="dm")
        if where not in ("dm", "channel"):
            raise Refusal(400, "'where' must be 'dm' or 'channel'")
        channel_id = body.text("channel_id") if where == "channel" else None
        await self.say(body.text("person"), body.text("text"), channel_id=channel_id)
        return web.json_response({"ok": True})

    async def say(self, person_id: str, text: str, *, channel_id: str | None = None) -> None:
        """A person types in their DM with the bot, or in a channel when `channel_id` is set."""
        person = self._person(person_id)
        text = text.strip()
        if not text:
            raise LocalInputError(400, "say something first")
        if len(text) > MAX_TEXT:
            raise LocalInputError(400, f"messages are limited to {MAX_TEXT} characters")
        in_channel = channel_id is not None
        if in_channel and channel_id not in {c.id for c in self._channels}:
            raise LocalInputError(400, "unknown channel")
        text = self._mentions(text)
        command = text.startswith("/cohort")
        # Like Slack, a slash command typed in a channel is shown to nobody else: only
        # its author sees it, beside the bot's private answer.
        private = in_channel and command
        self.transcript.add(
            where="channel" if in_channel else "dm",
            channel_id=channel_id,
            user_id=person.id if private or not in_channel else None,
            ephemeral=private,
            message=Message(text=text),
            author=person.id,
            author_name=person.name,
        )
        event: InboundEvent
        base: dict[str, Any] = {
            "event_id": f"local-{uuid.uuid4()}",
            "actor": self._actor(person),
            "channel_id": channel_id,
            "is_direct": not in_channel,
            "occurred_at": self._clock.now(),
        }
        if command:
            event = CommandInvoked(text=text.removeprefix("/cohort").strip(), **base)
        else:
            mentions_bot = "@cohortbot" in text.lower()
            event = MessageReceived(
                text=text.replace("@cohortbot", "").strip() if mentions_bot else text,
                mentions_bot=mentions_bot,
                **base,
            )
        await self._sink(event)

    def _mentions(self, text: str) -> str:
        """`@dana` becomes the neutral mention `<@dana>` when dana is a playground person."""
        words = []
        for word in text.split(" "):
            handle = word[1:].rstrip(".,:;!?") if word.startswith("@") else ""
            if handle in self._people:
                word = word.replace(f"@{handle}", f"<@{handle}>", 1)
            words.append(word)
        return " ".join(words)

    async def _action(self, request: web.Request) -> web.Response:
        body = await Body.read(request)
        await self.click(
            body.text("person"),
            body.text("message_id"),
            action_id=body.text("action_id"),
            value=body.scalar("value"),
        )
        return web.json_response({"ok": True})

    async def click(self, person_id: str, message_id: str, *, action_id: str, value: str) -> None:
        """A person presses a button (or picks an option) on a message they can see."""
        person = self._person(person_id)
        entry = self._visible(person, message_id)
        await self._sink(
            ActionInvoked(
                event_id=f"local-{uuid.uuid4()}",
                actor=self._actor(person),
                channel_id=entry.channel_id,
                is_direct=entry.where == "dm",
                action_id=action_id,
                value=value,
                message_ref=entry.id,
            )
        )

    async def _form(self, request: web.Request) -> web.Response:
        body = await Body.read(request)
        problems = await self.submit(
            body.text("person"),
            body.text("message_id"),
            form_id=body.text("form_id"),
            values=body.values("values"),
        )
        # A refused form is an answer, not a failed request: the page shows it by the fields.
        return web.json_response({"ok": not problems, "errors": problems})

    async def submit(
        self, person_id: str, message_id: str, *, form_id: str, values: dict[str, str]
    ) -> dict[str, str]:
        """A person submits the form on a message they can see.

        A form with bad fields is not sent: what is wrong with each is returned instead.
        """
        person = self._person(person_id)
        entry = self._visible(person, message_id)
        problems = form_problems(entry.message.form_rules(), values)
        if problems:
            return problems
        await self._sink(
            FormSubmitted(
                event_id=f"local-{uuid.uuid4()}",
                actor=self._actor(person),
                channel_id=entry.channel_id,
                is_direct=entry.where == "dm",
                form_id=form_id,
                values=values,
            )
        )
        return {}

    async def _flag(self, request: web.Request) -> web.Response:
        body = await Body.read(request)
        message_id = body.text("message_id")
        await self.flag(
            body.text("person"),
            message_id,
            note=body.text("note"),
            # The page shows the message when the moderators' ping links here.
            link=f"{request.url.origin()}/#message={quote(message_id)}",
        )
        return web.json_response({"ok": True})

    async def flag(
        self, person_id: str, message_id: str, *, note: str = "", link: str | None = None
    ) -> None:
        """Flag a message for the moderators, with an optional note (the message shortcut);
        `link` opens the message on the playground's page."""
        person = self._person(person_id)
        entry = self._visible(person, message_id)
        note = note.strip()
        if len(note) > MAX_TEXT:
            raise LocalInputError(400, f"notes are limited to {MAX_TEXT} characters")
        flagged = FlaggedMessage(
            text=entry.message.text,
            ref=entry.id,
            author_id=entry.author if entry.author in self._people else None,
            link=link,
            note=note,
        )
        # The message shortcut reaches the bot as a click on the message it flags.
        await self.click(
            person_id, message_id, action_id=FLAG_ACTION, value=flagged.model_dump_json()
        )

    def _visible(self, person: PlaygroundPerson, message_id: str) -> Entry:
        entry = self.transcript.find(message_id)
        if entry is None or not entry.visible_to(person.id):
            raise LocalInputError(404, "that message is gone")
        return entry


class LocalInputError(Exception):
    """Input the playground refuses; `status` is the HTTP status the page gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Refusal(LocalInputError):
    """A request the page never makes (junk, another site, no secret): logged as a warning."""


@dataclass(frozen=True)
class Body:
    """A request's JSON object, read field by field with the types the page sends."""

    fields: dict[str, Any]

    @classmethod
    async def read(cls, request: web.Request) -> Body:
        """The body as UTF-8 JSON, whatever charset it claims; anything else is refused."""
        try:
            found = json.loads((await request.read()).decode("utf-8"))
        except web.HTTPRequestEntityTooLarge:
            raise Refusal(413, "the request body is too large") from None
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past reason
            raise Refusal(400, "the request body must be JSON") from None
        if not isinstance(found, dict):
            raise Refusal(400, "the request body must be a JSON object")
        return cls(found)

    def text(self, name: str, *, default: str = "") -> str:
        """A string field; absent or null is `default`."""
        value = self.fields.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise Refusal(400, f"'{name}' must be a string")
        return _clean(name, value)

    def scalar(self, name: str) -> str:
        """A button's value: a string, or a number written as one; absent is ""."""
        value = self.fields.get(name)
        found = "" if value is None else _scalar(value)
        if found is None:
            raise Refusal(400, f"'{name}' must be a string")
        return _clean(name, found)

    def values(self, name: str) -> dict[str, str]:
        """A form's fields: an object of strings (or numbers)."""
        found = self.fields.get(name)
        if not isinstance(found, dict):
            raise Refusal(400, f"'{name}' must be an object")
        values: dict[str, str] = {}
        for key, value in found.items():
            text = _scalar(value)
            if text is None:
                raise Refusal(400, f"'{name}' must hold strings")
            values[_clean(name, key)] = _clean(name, text)
        return values


def _scalar(value: object) -> str | None:
    """A string, or a number as text; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _clean(name: str, value: str) -> str:
    """Text that storage can keep: UTF-8 without NUL characters."""
    if "\x00" in value or not _encodable(value):
        raise Refusal(400, f"'{name}' is not valid text")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        return False
    return True


def _refused(request: web.Request, problem: LocalInputError) -> web.HTTPException:
    """A JSON error the page shows in its banner; a refusal is one warning in the log."""
    if isinstance(problem, Refusal):
        log.warning(
            "playground request refused",
            extra={"status": problem.status, "reason": str(problem), "path": request.path[:200]},
        )
    return _error(problem.status, str(problem))


def _error(status: int, message: str) -> web.HTTPException:
    """A JSON error with the status given."""
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
    }
    text = json.dumps({"error": message})
    if status == 413:
        return web.HTTPRequestEntityTooLarge(0, 0, text=text, content_type=JSON)
    return kinds[status](text=text, content_type=JSON)
