"""Finding people in Teams: the Bot Connector's members API, its answers and failures."""

from __future__ import annotations

from typing import Any

from adapters.teams.errors import error_code, retry_after
from bot.model.ports import DirectoryUnavailable, PlatformUser, UserNotFound

LOOKUP_ATTEMPTS = 5
"""Tries of one member lookup through throttling and transient failures."""


def lookup_wait(error: Any, attempt: int) -> float:
    """Seconds to wait before asking again; raises when asking again cannot help."""
    status = int(getattr(getattr(error, "response", None), "status_code", 0) or 0)
    code = error_code(error)
    if status == 404:
        raise UserNotFound(
            "no member of the cohort's Teams team has this email as their sign-in name (UPN)"
        ) from error
    if status in (401, 403):
        raise DirectoryUnavailable(
            f"teams: {status} {code}".rstrip()
            + ": the bot may not read the members of the cohort's team "
            "(is the app installed in that team?)"
        ) from error
    if attempt == LOOKUP_ATTEMPTS or not (status == 429 or status >= 500 or status == 0):
        raise DirectoryUnavailable(f"teams: {status} {code}".rstrip()) from error
    if status == 429:
        headers = getattr(getattr(error, "response", None), "headers", None)
        wait = retry_after(headers)
        return 1.0 if wait is None else wait
    return float(2 ** (attempt - 1))


def member_user(member: Any, email: str, tenant: str) -> PlatformUser:
    """A neutral user from the connector's ChannelAccount (Teams fields ride along)."""
    extra = dict(getattr(member, "additional_properties", None) or {})
    return PlatformUser(
        user_id=str(member.id),
        workspace=str(extra.get("tenantId") or tenant),
        display_name=str(member.name or extra.get("givenName") or ""),
        time_zone=None,  # Teams tells a user's time zone only on their own activities
        email=str(extra.get("email") or extra.get("userPrincipalName") or email),
    )
