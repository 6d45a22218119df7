"""Open Badges 2.0 assertions (JSON-LD) for the badges a person was awarded.

Verification is `hosted`: the assertion, badge class and issuer ids are URLs under
`server.public_url` (`/badges/assertions/<award id>`, `/badges/classes/<program>/<badge>`,
`/badges/issuers/<program>`), which the bot serves (flows.recognition.hosting), so a verifier
can fetch and compare them. Without a public URL the ids are stable `urn:uuid:` names and
the badges cannot be verified. The recipient is the person's email, hashed with SHA-256
and a salt fixed per award, so the hosted copy and every export of it are identical.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.config import AppConfig, BadgeConfig, ProgramConfig
from storage.models import BadgeAward, Cohort, Person
from storage.uow import UnitOfWork

CONTEXT = "https://w3id.org/openbadges/v2"
_NAMESPACE = uuid.UUID("6f1f3a1e-0d5c-4b8e-9a55-6c0b0c3b7a10")
"""Names the urn:uuid ids when there is no public URL; fixed so ids stay stable."""


@dataclass(frozen=True)
class Issued:
    """One award with what the assertion says about it."""

    award: BadgeAward
    cohort: Cohort
    program_key: str
    program: ProgramConfig
    badge: BadgeConfig


async def issued_award(uow: UnitOfWork, config: AppConfig, award_id: int) -> Issued | None:
    """An award with its cohort, program and badge, if all still exist."""
    award = await uow.badges.get(award_id)
    cohort = await uow.cohorts.get(award.cohort_id) if award else None
    program = config.programs.get(cohort.program) if cohort else None
    if award is None or cohort is None or program is None:
        return None
    badge = next((b for b in program.badges if b.id == award.badge), None)
    if badge is None:
        return None
    return Issued(
        award=award, cohort=cohort, program_key=cohort.program, program=program, badge=badge
    )


def hashed_email(email: str, salt: str) -> str:
    """`sha256$<hex>` of the lower-cased address followed by the salt, as the spec hashes."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _iri(base_url: str | None, path: str) -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/{path}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, path)}"


def badge_image(badge: BadgeConfig) -> str:
    """A small round SVG with the badge's initials, as a data URI (BadgeClass needs an image)."""
    initials = "".join(word[0] for word in badge.name.split()[:2]).upper() or "?"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">'
        '<circle cx="64" cy="64" r="60" fill="#2f6f4f"/>'
        '<text x="64" y="78" font-family="sans-serif" font-size="40" fill="#fff" '
        f'text-anchor="middle">{escape(initials)}</text>'
        f"<title>{escape(badge.name)}</title></svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def issuer(program_key: str, program: ProgramConfig, base_url: str | None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Profile",
        "id": _iri(base_url, f"badges/issuers/{program_key}"),
        "name": program.name,
    }
    if base_url:
        profile["url"] = base_url
    if program.description:
        profile["description"] = program.description
    return profile


def badge_class(
    program_key: str, program: ProgramConfig, badge: BadgeConfig, base_url: str | None
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": _iri(base_url, f"badges/classes/{program_key}/{badge.id}"),
        "name": badge.name,
        "description": badge.description or badge.name,
        "image": badge_image(badge),
        "criteria": {"narrative": badge.description or f"Awarded in {program.name}."},
        "issuer": issuer(program_key, program, base_url),
    }


def award_salt(award: BadgeAward) -> str:
    """Unique per award and stable, so the hosted assertion never changes under a verifier."""
    return uuid.uuid5(_NAMESPACE, f"salt:{award.id}:{award.awarded_at.isoformat()}").hex


def assertion(issued: Issued, person: Person, *, base_url: str | None) -> dict[str, Any]:
    """The hosted assertion of one award; the person must have an email address."""
    if not person.email:
        raise ValueError("an Open Badges recipient needs an email address")
    award = issued.award
    salt = award_salt(award)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": _iri(base_url, f"badges/assertions/{award.id}"),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": salt,
            "identity": hashed_email(person.email, salt),
        },
        "badge": badge_class(issued.program_key, issued.program, issued.badge, base_url),
        "issuedOn": award.awarded_at.isoformat().replace("+00:00", "Z"),
        "verification": {"type": "hosted"},
    }
    if award.reason:
        document["narrative"] = award.reason
    return document
