"""Hosted Open Badges: the bot serves each assertion, badge class and issuer at its id.

`GET /badges/assertions/{award id}`, `/badges/classes/{program}/{badge}` and
`/badges/issuers/{program}` answer the JSON-LD that `cohortbot export-badges` writes, so
a verifier that fetches an exported assertion's id finds the same document. Hosted
assertions are public by design; the recipient is only a salted hash of the email.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.config import AppConfig
from flows.recognition.open_badges import assertion, badge_class, issued_award, issuer
from storage.db import SessionFactory
from storage.uow import unit_of_work

JSON_LD = "application/ld+json"


def _json(document: dict[str, Any]) -> web.Response:
    return web.json_response(document, content_type=JSON_LD)


def add_badge_routes(app: web.Application, *, sessions: SessionFactory, config: AppConfig) -> None:
    base_url = config.server.public_url

    async def serve_assertion(request: web.Request) -> web.Response:
        raw = request.match_info["award_id"]
        async with unit_of_work(sessions) as uow:
            issued = await issued_award(uow, config, int(raw)) if raw.isdigit() else None
            person = await uow.people.get(issued.award.person_id) if issued else None
        if issued is None or person is None or not person.email:
            raise web.HTTPNotFound(text="There is no such badge assertion.")
        return _json(assertion(issued, person, base_url=base_url))

    async def serve_class(request: web.Request) -> web.Response:
        key, badge_id = request.match_info["program"], request.match_info["badge"]
        program = config.programs.get(key)
        badge = next((b for b in program.badges if b.id == badge_id), None) if program else None
        if program is None or badge is None:
            raise web.HTTPNotFound(text="There is no such badge.")
        return _json(badge_class(key, program, badge, base_url))

    async def serve_issuer(request: web.Request) -> web.Response:
        key = request.match_info["program"]
        program = config.programs.get(key)
        if program is None:
            raise web.HTTPNotFound(text="There is no such issuer.")
        return _json(issuer(key, program, base_url))

    app.router.add_get("/badges/assertions/{award_id}", serve_assertion)
    app.router.add_get("/badges/classes/{program}/{badge}", serve_class)
    app.router.add_get("/badges/issuers/{program}", serve_issuer)
