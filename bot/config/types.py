"""Value types for app.yaml: weekly times, time zones, slugs, person references.

Each validator raises `ValueError` with a message that is shown to the operator as
is, so the messages name the offending value and say what was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, GetCoreSchemaHandler, PlainValidator
from pydantic_core import core_schema

Loc = tuple[str | int, ...]

PLATFORMS = ("local", "slack", "teams")

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PERSON_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RULE_RE = re.compile(r"[a-z][a-z0-9_]*")
_EMAIL_RE = re.compile(r"[^@\s:]+@[^@\s]+\.[^@\s]+")


class FrozenModel(BaseModel):
    """Every app.yaml section: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocatedErrors(ValueError):
    """Validation problems found by a model-level check, each with its own field path.

    The path of each problem is relative to the model that raised it; the loader
    prefixes it with the model's own location.
    """

    def __init__(self, problems: Iterable[tuple[Loc, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{format_loc(loc)}: {reason}" for loc, reason in self.problems))


def format_loc(loc: Iterable[str | int]) -> str:
    """`("cohorts", 1, "cadence")` -> `cohorts[1].cadence`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def check_unique(ids: Iterable[str], *, field: str, label: str) -> list[tuple[Loc, str]]:
    """Problems for every id seen before, located at `field[index].id`."""
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for index, ident in enumerate(ids):
        if ident in seen:
            problems.append(((field, index, "id"), f"duplicate {label} id {ident!r}"))
        seen.add(ident)
    return problems


@dataclass(frozen=True, slots=True)
class WeeklyTime:
    """A day of the week and a wall-clock time, written `Mon 09:00` in app.yaml."""

    weekday: int
    """0 is Monday, 6 is Sunday (as `date.weekday()`)."""
    time: time

    @classmethod
    def parse(cls, text: str) -> WeeklyTime:
        """Parse `Mon 09:00`, `monday 9:00`, `WED 15:30`; raise ValueError otherwise."""
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(
                f"{text!r} is not a valid weekly time (expected a day and a time, e.g. 'Mon 09:00')"
            )
        day, clock = parts[0].lower(), parts[1]
        if day in _DAYS:
            weekday = _DAYS.index(day)
        elif day in _FULL_DAYS:
            weekday = _FULL_DAYS.index(day)
        else:
            raise ValueError(f"{text!r} is not a valid day")
        match = _TIME_RE.fullmatch(clock)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"{text!r} is not a valid time")
        return cls(weekday=weekday, time=time(int(match[1]), int(match[2])))

    def __str__(self) -> str:
        return f"{_DAYS[self.weekday].title()} {self.time:%H:%M}"

    @property
    def spoken(self) -> str:
        """As said to people: `Monday at 09:00` (`str()` is the app.yaml spelling)."""
        return f"{_FULL_DAYS[self.weekday].title()} at {self.time:%H:%M}"

    def cron_fields(self) -> dict[str, str | int]:
        """Keyword arguments for APScheduler's `CronTrigger` (add the time zone yourself)."""
        return {
            "day_of_week": _DAYS[self.weekday],
            "hour": self.time.hour,
            "minute": self.time.minute,
        }

    @classmethod
    def _coerce(cls, value: Any) -> WeeklyTime:
        if isinstance(value, WeeklyTime):
            return value
        if not isinstance(value, str):
            raise ValueError(
                f"{value!r} is not a valid weekly time (expected text like 'Mon 09:00')"
            )
        return cls.parse(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._coerce,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone") from None
    return value


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid id (use lowercase letters, digits and hyphens)")
    return value


def _check_person_id(value: str) -> str:
    if not _PERSON_ID_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid id (use letters, digits, '.', '_' and '-')")
    return value


def _check_rule(value: str) -> str:
    if not _RULE_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid rule name (use lowercase and underscores)")
    return value


def _check_person_ref(value: str) -> str:
    platform, sep, user_id = value.partition(":")
    if sep and platform in PLATFORMS and user_id and not any(c.isspace() for c in user_id):
        return value
    if not sep:
        if _EMAIL_RE.fullmatch(value):
            return value
    elif platform not in PLATFORMS:
        raise ValueError(
            f"{value!r}: unknown platform {platform!r} (known: {', '.join(PLATFORMS)})"
        )
    raise ValueError(
        f"{value!r} is not a person reference "
        "(expected platform:user_id such as 'local:dana' or 'slack:U0123', or an email address)"
    )


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number: int | float = value
    elif isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]
"""An IANA time zone name such as `Europe/Berlin`, checked against the tz database."""
Slug = Annotated[str, AfterValidator(_check_slug)]
PersonId = Annotated[str, AfterValidator(_check_person_id)]
RuleName = Annotated[str, AfterValidator(_check_rule)]
PersonRef = Annotated[str, AfterValidator(_check_person_ref)]
"""`platform:user_id` (`local:dana`, `slack:U0123`, `teams:29:1a...`) or an email address."""
Number = Annotated[int | float, PlainValidator(_to_number, json_schema_input_type=float)]
"""An int or a float, kept as written (a plain validator, so errors carry no union tags)."""
