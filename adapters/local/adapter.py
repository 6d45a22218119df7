"""The playground: a page at `/` and a small JSON API that turn clicks into neutral events."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

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

STATIC = Path(__file__).parent / "static"
MAX_TEXT = 4000


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
    ) -> None:
        self._workspace = workspace
        self._people = {person.id: person for person in people}
        self._channels = channels
        self._sink = sink
        self._roles = roles
        self._clock = clock
        self._token = token
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
        app.router.add_get("/", self._page)
        app.router.add_get("/playground.js", self._static("playground.js"))
        app.router.add_get("/playground.css", self._static("playground.css"))
        app.router.add_get("/playground/api/state", self._state)
        app.router.add_get("/playground/api/feed", self._feed)
        app.router.add_post("/playground/api/say", self._say)
        app.router.add_post("/playground/api/action", self._action)
        app.router.add_post("/playground/api/form", self._form)
        app.router.add_post("/playground/api/flag", self._flag)

    def _authorised(self, request: web.Request) -> bool:
        if self._token is None:
            return True
        given = request.headers.get("X-Playground-Token") or request.query.get("token") or ""
        return hmac.compare_digest(given.encode(), self._token.encode())

    def _guard(self, request: web.Request) -> None:
        if not self._authorised(request):
            raise _error(401, "This playground needs its token (?token=...).")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        self._guard(request)
        return web.FileResponse(STATIC / "playground.html", headers={"Cache-Control": "no-store"})

    @staticmethod
    def _static(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(_request: web.Request) -> web.StreamResponse:
            return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

        return serve

    async def _state(self, request: web.Request) -> web.Response:
        self._guard(request)
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
        self._guard(request)
        try:
            person = self._person(request.query.get("person", ""))
        except LocalInputError as problem:
            raise _error(problem.status, str(problem)) from None
        try:
            after = int(request.query.get("after", "0"))
        except ValueError as error:
            raise _error(400, "'after' must be a number") from error
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

    async def _body(self, request: web.Request) -> dict[str, Any]:
        self._guard(request)
        try:
            body = await request.json()
        except ValueError as error:
            raise _error(400, "the request body must be JSON") from error
        if not isinstance(body, dict):
            raise _error(400, "the request body must be a JSON object")
        return body

    async def _say(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        in_channel = body.get("where") == "channel"
        await self._run(
            self.say(
                str(body.get("person", "")),
                str(body.get("text", "")),
                channel_id=str(body.get("channel_id") or "") if in_channel else None,
            )
        )
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
        body = await self._body(request)
        await self._run(
            self.click(
                str(body.get("person", "")),
                str(body.get("message_id", "")),
                action_id=str(body.get("action_id", "")),
                value=str(body.get("value", "")),
            )
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
        body = await self._body(request)
        values = body.get("values")
        if not isinstance(values, dict):
            raise _error(400, "'values' must be an object")
        problems: dict[str, str] = {}

        async def submitting() -> None:
            problems.update(
                await self.submit(
                    str(body.get("person", "")),
                    str(body.get("message_id", "")),
                    form_id=str(body.get("form_id", "")),
                    values={str(k): str(v) for k, v in values.items()},
                )
            )

        await self._run(submitting())
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
        body = await self._body(request)
        await self._run(
            self.flag(
                str(body.get("person", "")),
                str(body.get("message_id", "")),
                note=str(body.get("note") or ""),
                # The page shows the message when the moderators' ping links here.
                link=f"{request.url.origin()}/#message={quote(str(body.get('message_id', '')))}",
            )
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

    @staticmethod
    async def _run(action: Awaitable[None]) -> None:
        """Run an in-process call for an HTTP request, its input errors becoming JSON errors."""
        try:
            await action
        except LocalInputError as problem:
            raise _error(problem.status, str(problem)) from None


class LocalInputError(Exception):
    """Input the playground refuses; `status` is the HTTP status the page gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> web.HTTPException:
    """A JSON error the page shows in its banner."""
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        404: web.HTTPNotFound,
    }
    return kinds[status](text=json.dumps({"error": message}), content_type="application/json")
