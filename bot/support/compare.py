"""Constant-time comparison of secrets that people and pages send."""

from __future__ import annotations

import hmac


def same_secret(given: str, expected: str) -> bool:
    """Whether `given` is `expected`, compared as UTF-8 bytes; never raises.

    `hmac.compare_digest` raises on non-ASCII str, and headers and query strings can hold
    anything, lone surrogates included: surrogatepass encodes every str.
    """
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
