"""Sliding-window rate limits for outgoing messages, on the injected clock."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime

from bot.model.ports import Rate


class WindowLimiter:
    """Admits an event when every window (burst per seconds) has room; keyed by lane."""

    def __init__(self, rates: tuple[Rate, ...]) -> None:
        self._rates = rates
        self._longest = max((rate.per_seconds for rate in rates), default=0.0)
        self._history: dict[str, deque[float]] = defaultdict(deque)

    def wait_time(self, key: str, now: datetime) -> float:
        """Seconds until one more event is allowed under `key` (0 when allowed now)."""
        if not self._rates:
            return 0.0
        moment = now.timestamp()
        history = self._history[key]
        while history and history[0] <= moment - self._longest:
            history.popleft()
        wait = 0.0
        for rate in self._rates:
            recent = [stamp for stamp in history if stamp > moment - rate.per_seconds]
            if len(recent) >= rate.burst:
                oldest_blocking = recent[len(recent) - rate.burst]
                wait = max(wait, oldest_blocking + rate.per_seconds - moment)
        return wait

    def record(self, key: str, now: datetime) -> None:
        if self._rates:
            self._history[key].append(now.timestamp())
