"""Short-lived signed dashboard links: who asked, which cohorts, until when."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

LINK_LIFETIME = timedelta(minutes=15)
SALT = "cohortbot.dashboard"


class LinkRefused(Exception):
    """The link is not valid; the message says why, in words for the person holding it."""


@dataclass(frozen=True)
class DashboardGrant:
    """What a valid link allows: the person it was made for and the cohorts they may see."""

    person_id: int | None
    cohorts: frozenset[str]
    expires_at: datetime | None


class DashboardLinks:
    """Signs and checks links with the server's secret (HMAC-SHA256 via itsdangerous).

    Expiry is checked against the injected clock rather than itsdangerous' own timestamps,
    so tests and simulations can move time.
    """

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret
        """Read at each use: the stored secret is loaded only once the bot has started."""

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(
            self._secret(), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def sign(self, *, person_id: int, cohorts: list[str], now: datetime) -> str:
        expires = int((now + LINK_LIFETIME).timestamp())
        return self._serializer().dumps({"p": person_id, "c": sorted(cohorts), "e": expires})

    def check(self, token: str, *, now: datetime) -> DashboardGrant:
        try:
            # Bytes, so a token of any characters is checked, never an encoding error.
            payload = self._serializer().loads(token.encode("utf-8", "surrogatepass"))
        except BadSignature:
            raise LinkRefused("This dashboard link is not valid.") from None
        if not isinstance(payload, dict) or not {"p", "c", "e"} <= payload.keys():
            raise LinkRefused("This dashboard link is not valid.")
        expires = datetime.fromtimestamp(int(payload["e"]), tz=now.tzinfo)
        if now >= expires:
            raise LinkRefused(
                "This dashboard link has expired. Type `/cohort dashboard` for a new one."
            )
        return DashboardGrant(
            person_id=int(payload["p"]),
            cohorts=frozenset(str(key) for key in payload["c"]),
            expires_at=expires,
        )
