"""The roles a person holds in a cohort, and what each is called in replies."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person may do in a program, least to most."""

    PARTICIPANT = "participant"
    MENTOR = "mentor"
    FACILITATOR = "facilitator"
    MODERATOR = "moderator"
    OWNER = "owner"


ROLE_NAMES = {
    Role.PARTICIPANT: "participant",
    Role.MENTOR: "mentor",
    Role.FACILITATOR: "facilitator",
    Role.MODERATOR: "moderator",
    Role.OWNER: "program owner",
}
"""How a role is named to people."""
