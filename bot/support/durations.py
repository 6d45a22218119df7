"""Short human durations such as ``30m``, ``2h``, ``3d``, ``2w`` and ``1h30m``.

Pure functions, used by command options (``--closes 2h``) and by flows that
show a remaining time. :func:`format_duration` is the inverse of
:func:`parse_duration` for any positive whole number of seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DurationError", "format_duration", "parse_duration"]

_HINT = "use 30m, 2h, 3d or 2w"

# Units in the only order accepted, largest first, so "1h30m" is read one way.
# Long forms ("2 hours", "30min") are accepted because people type them.
_PATTERN = re.compile(
    r"""
    (?:(?P<weeks>[0-9]+)\s*w(?:eeks?|ks?)?\s*)?
    (?:(?P<days>[0-9]+)\s*d(?:ays?)?\s*)?
    (?:(?P<hours>[0-9]+)\s*h(?:ours?|rs?)?\s*)?
    (?:(?P<minutes>[0-9]+)\s*m(?:in(?:ute)?s?)?\s*)?
    (?:(?P<seconds>[0-9]+)\s*s(?:ec(?:ond)?s?)?)?
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 7 * 24 * 3600),
    ("d", 24 * 3600),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)
_MAX_DIGITS = 12  # anything longer overflows timedelta anyway; keeps int() cheap
_ECHO_LIMIT = 30


class DurationError(ValueError):
    """A text is not a positive duration; the message is fit to show to a user."""


def _echo(text: str) -> str:
    shown = text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 1] + "…"
    return f"'{shown}'"


def parse_duration(text: str) -> timedelta:
    """Read a positive duration such as ``30m``, ``2h``, ``3d``, ``2w`` or ``1h30m``.

    Units are weeks, days, hours, minutes and seconds, largest first, each at
    most once; letters are case-insensitive and spaces around them are allowed.
    A bare number, a zero or negative total, or any other text raises
    :class:`DurationError` with a short message that names the text.
    """
    stripped = text.strip()
    if not stripped:
        raise DurationError(f"A duration is missing ({_HINT})")
    match = _PATTERN.fullmatch(stripped)
    if match is None or not any(match.groupdict().values()):
        raise DurationError(f"{_echo(stripped)} is not a duration ({_HINT})")
    parts = {unit: value for unit, value in match.groupdict().items() if value is not None}
    if any(len(value) > _MAX_DIGITS for value in parts.values()):
        raise DurationError(f"{_echo(stripped)} is too long a duration")
    try:
        delta = timedelta(**{unit: int(value) for unit, value in parts.items()})
    except OverflowError:
        raise DurationError(f"{_echo(stripped)} is too long a duration") from None
    if delta <= timedelta(0):
        raise DurationError(f"{_echo(stripped)} is too short: a duration must be more than zero")
    return delta


def format_duration(delta: timedelta) -> str:
    """Write ``delta`` compactly, largest unit first: ``1h30m``, ``3d``, ``2w``, ``1w3d``.

    Fractions of a second are dropped, a zero duration is ``0s`` and a
    negative one gets a leading ``-``.
    """
    if delta < timedelta(0):
        return "-" + format_duration(-delta)
    remaining = delta.days * 24 * 3600 + delta.seconds
    if remaining == 0:
        return "0s"
    pieces: list[str] = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            pieces.append(f"{count}{unit}")
    return "".join(pieces)
