"""Reading an HR roster CSV: one row per person, validated before anything is stored.

Columns (header names are case-, space- and underscore-insensitive): name, email,
department, manager email, time zone, role. Only email is required. The file may
start with a byte order mark and may use `,`, `;` or tabs between fields. Every row
that cannot be used is reported with its line number and the reason; none is
dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.model.roles import Role

COLUMNS = ("name", "email", "department", "manager_email", "time_zone", "role")
ALIASES = {
    "name": "name",
    "full name": "name",
    "display name": "name",
    "email": "email",
    "e mail": "email",
    "email address": "email",
    "mail": "email",
    "department": "department",
    "dept": "department",
    "manager email": "manager_email",
    "manager e mail": "manager_email",
    "manager": "manager_email",
    "time zone": "time_zone",
    "timezone": "time_zone",
    "tz": "time_zone",
    "role": "role",
}
ROLES = {
    "participant": Role.PARTICIPANT,
    "learner": Role.PARTICIPANT,
    "mentor": Role.MENTOR,
    "lead mentor": Role.MENTOR,
    "facilitator": Role.FACILITATOR,
    "moderator": Role.MODERATOR,
    "owner": Role.OWNER,
    "program owner": Role.OWNER,
}
ROLE_NAMES = ", ".join(role.value for role in Role)
MAX_TEXT = 200  # the width of a person's name in the database
# Deliberately simple: one @, no spaces, a dot in the domain. Mail servers decide the rest.
EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+")
DELIMITERS = (",", ";", "\t")


class RosterFileError(Exception):
    """The file as a whole cannot be read as a roster (encoding, header)."""


@dataclass(frozen=True)
class RosterRow:
    """One valid row; `line` is where it starts in the file (the header is line 1)."""

    line: int
    email: str
    name: str = ""
    department: str = ""
    manager_email: str = ""
    time_zone: str | None = None
    role: Role = Role.PARTICIPANT


@dataclass(frozen=True)
class RowProblem:
    line: int
    email: str
    reason: str


@dataclass
class Roster:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM) or UTF-16 with its BOM."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            f"the file is not UTF-8 text (byte {error.start + 1}); save it as 'CSV UTF-8'"
        ) from None


def parse(text: str) -> Roster:
    """Validate every row of a roster; raises RosterFileError when the header is unusable."""
    text = text.removeprefix("\ufeff")
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    if not header_line:
        raise RosterFileError("the file is empty; the first line must name the columns")
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    roster = Roster()
    columns = _header(reader, roster)
    seen: dict[str, int] = {}
    last_line = reader.line_num
    for fields in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(value.strip() for value in fields):
            continue  # a blank line holds nobody
        _row(fields, columns, line, seen, roster)
    return roster


def _header(reader: Iterator[list[str]], roster: Roster) -> list[str | None]:
    """The canonical column name of each header field (None for columns we ignore)."""
    for fields in reader:
        if any(value.strip() for value in fields):
            break
    else:
        raise RosterFileError("the file is empty; the first line must name the columns")
    columns: list[str | None] = []
    for raw in fields:
        name = ALIASES.get(_normal(raw))
        if name is not None and name in columns:
            raise RosterFileError(f"the column {raw.strip()!r} appears twice in the header")
        if name is None and raw.strip():
            roster.ignored_columns.append(raw.strip())
        columns.append(name)
    if "email" not in columns:
        found = ", ".join(repr(raw.strip()) for raw in fields)
        raise RosterFileError(
            f"the header has no email column (found {found}); "
            "expected: name, email, department, manager email, time zone, role"
        )
    return columns


def _normal(header: str) -> str:
    return " ".join(re.sub(r"[_\-.]", " ", header).lower().split())


def _row(
    fields: list[str],
    columns: list[str | None],
    line: int,
    seen: dict[str, int],
    roster: Roster,
) -> None:
    values = {
        column: value.strip()
        for column, value in zip(columns, fields, strict=False)
        if column is not None
    }
    email = values.get("email", "")

    def problem(reason: str) -> None:
        roster.problems.append(RowProblem(line, email, reason))

    if len(fields) > len(columns) and any(value.strip() for value in fields[len(columns) :]):
        problem(f"has {len(fields)} fields but the header names {len(columns)}")
        return
    if not email:
        problem("no email")
        return
    if not EMAIL.fullmatch(email) or len(email) > 320:
        problem(f"{email!r} is not an email address")
        return
    key = email.lower()
    if key in seen:
        problem(f"the same email is on line {seen[key]}")
        return
    manager = values.get("manager_email", "")
    if manager and not EMAIL.fullmatch(manager):
        problem(f"manager email {manager!r} is not an email address")
        return
    zone = values.get("time_zone") or None
    if zone is not None and not _known_zone(zone):
        problem(f"{zone!r} is not an IANA time zone (like Europe/Berlin)")
        return
    role_text = " ".join(values.get("role", "").lower().split())
    role = ROLES.get(role_text) if role_text else Role.PARTICIPANT
    if role is None:
        problem(f"role {values['role']!r} is not one of {ROLE_NAMES}")
        return
    for column in ("name", "department"):
        if len(values.get(column, "")) > MAX_TEXT:
            problem(f"the {column} is longer than {MAX_TEXT} characters")
            return
    seen[key] = line
    roster.rows.append(
        RosterRow(
            line=line,
            email=key,
            name=values.get("name", ""),
            department=values.get("department", ""),
            manager_email=manager.lower(),
            time_zone=zone,
            role=role,
        )
    )


def _known_zone(name: str) -> bool:
    if name.startswith("/") or ".." in name:
        return False  # ZoneInfo would read it as a path
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
