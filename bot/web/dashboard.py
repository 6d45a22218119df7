"""GET /dashboard: the program dashboard behind a signed link or the operator token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot.runtime.simulation_record import report_time
from bot.support.compare import same_secret
from bot.web.dashboard_page import DashboardPage, ScopeLink, render_page, render_refusal
from bot.web.links import DashboardGrant, DashboardLinks, LinkRefused
from storage.db import SessionFactory
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

STAFF_ROLES = frozenset({"facilitator", "moderator", "mentor", "owner"})
"""Roles that may see a cohort's dashboard; participants see their own figures in chat."""


@dataclass(frozen=True)
class DashboardScope:
    """What one page shows: a cohort, or a program over the cohorts the viewer may see."""

    kind: str
    key: str
    cohort_keys: tuple[str, ...]


PageBuilder = Callable[
    [UnitOfWork, DashboardScope, list[ScopeLink], datetime], Awaitable[DashboardPage]
]


class Dashboard:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        links: DashboardLinks,
        operator_token: str | None,
        build: PageBuilder,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._links = links
        self._operator_token = operator_token
        self._build = build
        self._now = now

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/dashboard", self.page)

    async def page(self, request: web.Request) -> web.Response:
        now = self._now()
        try:
            grant = self._grant(request, now)
        except LinkRefused as refusal:
            return _refused(str(refusal), status=403)
        async with unit_of_work(self._sessions) as uow:
            programs, whole = await self._visible(uow, grant)
            if not programs:
                return _refused(
                    "You have no cohort to look at here: the dashboard shows cohorts where you "
                    "are a facilitator, moderator, mentor or program owner.",
                    status=403,
                )
            scope = _choose_scope(request, programs, whole)
            if scope is None:
                return _refused("That cohort or program is not one you can see.", status=403)
            nav = _navigation(request, programs, whole, scope)
            page = await self._build(uow, scope, nav, await report_time(uow, now))
        return web.Response(
            text=render_page(page),
            content_type="text/html",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    def _grant(self, request: web.Request, now: datetime) -> DashboardGrant:
        """The operator's grant, else the link's: a wrong header does not spoil a valid link."""
        if self._is_operator(request):
            return DashboardGrant(person_id=None, cohorts=frozenset(), expires_at=None)
        token = request.query.get("token")
        if token:
            return self._links.check(token, now=now)
        if self._operator_token and _bearer(request) is not None:
            raise LinkRefused("That operator token is not valid.")
        raise LinkRefused(
            "The dashboard opens from a link: type `/cohort dashboard` to get one by DM."
        )

    def _is_operator(self, request: web.Request) -> bool:
        given = _bearer(request)
        if not self._operator_token or given is None:
            return False
        return same_secret(given, self._operator_token)

    @staticmethod
    async def _visible(
        uow: UnitOfWork, grant: DashboardGrant
    ) -> tuple[dict[str, list[str]], set[str]]:
        """Program key -> cohort keys the holder may see, checked against today's roles;
        and the programs whose every cohort they may see (only those have a program view)."""
        cohorts = await uow.cohorts.all()
        if grant.person_id is None:
            allowed = {cohort.key for cohort in cohorts}
        else:
            mine = await uow.cohorts.cohorts_of(grant.person_id)
            staff = {cohort.key for cohort, roles in mine if roles & STAFF_ROLES}
            allowed = staff & grant.cohorts
        programs: dict[str, list[str]] = {}
        hidden: set[str] = set()
        for cohort in cohorts:
            if cohort.key in allowed:
                programs.setdefault(cohort.program, []).append(cohort.key)
            else:
                hidden.add(cohort.program)
        return programs, set(programs) - hidden


def _bearer(request: web.Request) -> str | None:
    """The credentials of an `Authorization: Bearer ...` header (the scheme in any case)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _choose_scope(
    request: web.Request, programs: dict[str, list[str]], whole: set[str]
) -> DashboardScope | None:
    cohort_key = request.query.get("cohort")
    program_key = request.query.get("program")
    if cohort_key:
        for keys in programs.values():
            if cohort_key in keys:
                return DashboardScope("cohort", cohort_key, (cohort_key,))
        return None
    if program_key:
        if program_key not in whole:
            return None
        return DashboardScope("program", program_key, tuple(programs[program_key]))
    for program, keys in sorted(programs.items()):
        if program in whole and len(keys) > 1:
            return DashboardScope("program", program, tuple(keys))
    first = sorted(programs.items())[0][1][0]
    return DashboardScope("cohort", first, (first,))


def _navigation(
    request: web.Request, programs: dict[str, list[str]], whole: set[str], scope: DashboardScope
) -> list[ScopeLink]:
    carried = {"token": request.query["token"]} if "token" in request.query else {}
    links: list[ScopeLink] = []
    for program, keys in sorted(programs.items()):
        if program in whole:
            links.append(
                ScopeLink(
                    label=f"Program {program}",
                    url=f"/dashboard?{urlencode({**carried, 'program': program})}",
                    current=scope.kind == "program" and scope.key == program,
                )
            )
        for key in keys:
            links.append(
                ScopeLink(
                    label=key,
                    url=f"/dashboard?{urlencode({**carried, 'cohort': key})}",
                    current=scope.kind == "cohort" and scope.key == key,
                )
            )
    return links


def _refused(message: str, *, status: int) -> web.Response:
    return web.Response(
        text=render_refusal(message),
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
