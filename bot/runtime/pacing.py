"""A workspace's posting rate, learned the way TCP learns a path's capacity.

Platforms do not publish their workspace-wide limits (Slack: "several hundred per minute",
different between workspaces and over time), and enforce them in shapes nobody documents: a
token bucket with a few seconds of burst, a sliding minute. So the sender paces each
workspace smoothly at a rate it learns: additive increase while posts succeed and the pace
is what holds the sender back, multiplicative decrease when a 429 arrives, and the whole
workspace held until Retry-After. Times are seconds on the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOW_START = 0.25
"""Growth per second while no limit has been met yet: find the neighbourhood fast."""
SLOW_START_UNTIL = 4.0
"""Slow start ends at this multiple of the start rate (TCP's threshold): a workspace that
lets a burst through (a sliding minute) is not flooded before it first refuses."""
CATCH_UP = 0.10
"""Growth per second while well below the rate that was last refused."""
PROBE = 0.001
"""Growth per success, as a share of the rate, near the refused rate: the cut is won back
over a hundred and more posts whatever the rate, so refusals stay under one in a hundred."""
NEAR = 0.9
"""Within this share of the refused rate, probe instead of catching up."""
CUT = 0.85
"""The rate kept after a 429 when nothing better is known."""
DEEPEST_CUT = 0.5
"""One refusal never more than halves the rate."""
MIN_SAMPLE = 20
SAMPLE_SECONDS = 3.0
"""Successes needed before they estimate the limit (at least MIN_SAMPLE, and this many
seconds' worth at the current rate); fewer say little."""
SHORT_HOLD = 2.0
"""Retry-After seconds above which the workspace is a window a burst filled: its estimate
is trusted whole; after shorter holds one refusal at most halves the rate."""
LIMITED_RECENTLY = 2.0
"""Successes raise the rate only while the pace, not the queue, is what limits sending."""
BURST_SECONDS = 0.25
"""Tokens saved while idle, in seconds of the current rate: absorbs the loop's jitter."""


@dataclass(frozen=True)
class RateBounds:
    start: float
    """Posts per second before anything is learned."""
    floor: float = 0.2
    ceiling: float = 100.0


class WorkspacePace:
    """One workspace's learned rate and the token bucket that spends it."""

    def __init__(
        self,
        bounds: RateBounds,
        *,
        now: float,
        rate: float | None = None,
        refused_rate: float | None = None,
    ) -> None:
        self._bounds = bounds
        self.rate = _clamp(rate if rate is not None else bounds.start, bounds)
        self.refused_rate = refused_rate
        """The rate at which the workspace last answered 429 (None until it does)."""
        self._tokens = self._capacity()
        self._stamp = now
        self.held_until = now
        self._limited_at: float | None = None
        self._successes_since_cut = 1
        self._counting_since: float | None = None
        """The previous refusal, or the first success: where the accepted posts are counted."""
        self.refusals = 0

    def wait(self, now: float) -> float:
        """Seconds until one more post may go (0 when it may go now)."""
        if now < self.held_until:
            return self.held_until - now
        self._refill(now)
        if self._tokens >= 1.0:
            return 0.0
        self._limited_at = now
        return (1.0 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        """Spend one post's token (call after `wait` returned 0)."""
        self._refill(now)
        self._tokens -= 1.0

    def succeeded(self, now: float) -> None:
        self._successes_since_cut += 1
        if self._counting_since is None:
            self._counting_since = now
        if self._limited_at is None or now - self._limited_at > LIMITED_RECENTLY:
            return  # idle capacity proves nothing about the limit
        growth = self._growth()
        self.rate = _clamp(self.rate + growth, self._bounds)
        if self.refused_rate is not None and self.rate > self.refused_rate:
            self.refused_rate = self.rate  # the limit moved up: follow it

    def refused(self, now: float, retry_after: float) -> None:
        """A 429: hold the workspace for Retry-After and, once per episode, cut the rate."""
        self.refusals += 1
        self.held_until = max(self.held_until, now + max(retry_after, 0.0))
        # One post may go the moment the hold ends: the probe of what the workspace allows.
        self._tokens = 1.0
        self._stamp = self.held_until
        if self._successes_since_cut == 0:
            return  # another post already in flight when the first 429 came: same episode
        estimate = self._accepted_rate(now, retry_after)
        cut = self.rate * CUT
        if estimate is None and self.refused_rate is not None:
            # Refused again before winning back the last cut: the limit is well below.
            cut = self.rate * DEEPEST_CUT
        self.refused_rate = self.rate
        if estimate is not None:
            # What the workspace accepted from the previous refusal (or the first post) to
            # the end of this hold is what its limit allows: a bucket refills at the limit, a
            # window filled by a burst stays shut until it has averaged down to it.
            long_hold = retry_after > SHORT_HOLD
            floor = 0.0 if long_hold else self.rate * DEEPEST_CUT
            cut = max(min(cut, estimate), floor)
            # After a long hold the estimate may also count a burst sent before a restart:
            # catch up quickly towards twice it, and let the next refusal tell.
            headroom = 2.0 if long_hold else 1.0 / CUT
            self.refused_rate = max(min(self.refused_rate, estimate * headroom), cut)
        self.rate = _clamp(cut, self._bounds)
        # A long hold is a window shut by a burst: time it cannot count as allowance.
        self._counting_since = now + (retry_after if retry_after > SHORT_HOLD else 0.0)
        self._successes_since_cut = 0

    def _accepted_rate(self, now: float, retry_after: float) -> float | None:
        """Posts per second accepted from the previous refusal to the end of this hold."""
        enough = max(MIN_SAMPLE, SAMPLE_SECONDS * self.rate)
        if self._counting_since is None or self._successes_since_cut < enough:
            return None
        return self._successes_since_cut / max(now - self._counting_since + retry_after, 1.0)

    def _growth(self) -> float:
        """The rate's increase for one success."""
        # At `rate` successes a second, adding `share` per success grows the rate by
        # `share` of itself each second.
        if self.refused_rate is None:
            return SLOW_START if self.rate < SLOW_START_UNTIL * self._bounds.start else CATCH_UP
        if self.rate < NEAR * self.refused_rate:
            return CATCH_UP
        return PROBE * self.rate

    def _capacity(self) -> float:
        return max(1.0, self.rate * BURST_SECONDS)

    def _refill(self, now: float) -> None:
        if now <= self._stamp:
            return
        self._tokens = min(self._capacity(), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now


def _clamp(rate: float, bounds: RateBounds) -> float:
    return min(bounds.ceiling, max(bounds.floor, rate))
