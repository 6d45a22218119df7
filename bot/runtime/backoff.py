"""Exponential backoff with jitter, for everything the bot retries."""

from __future__ import annotations

import random


def backoff_seconds(attempts: int, *, base: float, maximum: float, rng: random.Random) -> float:
    """The wait after the `attempts`-th failure: doubling from `base`, capped, +-25% jitter.

    The jitter spreads retries out while each wait stays longer than the last.
    """
    delay = min(maximum, base * 2.0 ** max(0, attempts - 1))
    return delay * (0.75 + rng.random() / 2)
