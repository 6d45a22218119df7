"""How long reviewers were given, in words, from the deadlines the reviews really had."""

from __future__ import annotations

from collections.abc import Sequence


def _span(hours: float) -> str:
    """`3 days` for whole days, `36 hours` otherwise."""
    whole = round(hours)
    if whole >= 24 and whole % 24 == 0:
        days = whole // 24
        return "1 day" if days == 1 else f"{days} days"
    return "1 hour" if whole == 1 else f"{whole} hours"


def deadline_phrase(allowed_hours: Sequence[float], default_days: int) -> str:
    """`due in 3 days`, `due in 3 days to 14 days`, or the program's default without reviews.

    A request's `--due` overrides the program's default, so the default alone would
    misdescribe reviews requested with another deadline.
    """
    if not allowed_hours:
        return f"default deadline {default_days} days"
    shortest, longest = _span(min(allowed_hours)), _span(max(allowed_hours))
    return f"due in {shortest}" if shortest == longest else f"due in {shortest} to {longest}"
