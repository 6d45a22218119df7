"""The learned workspace rate against limits it is never told, on a virtual clock.

A drain of bulk posts runs against a workspace whose limit is a token bucket (one to five
seconds of burst) or a sliding minute, anywhere from 3 to 20 posts a second, and answers
429 with Retry-After above it, as Slack does. The pace must reach most of the limit while
few posts are refused, also when a restart resumes from the saved rate.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import pytest

from bot.runtime.pacing import RateBounds, WorkspacePace

START = 5.0
LATENCY = 0.05
CONCURRENCY = 8


class TokenBucket:
    def __init__(self, rate: float, burst_seconds: float) -> None:
        self.rate, self.capacity = rate, rate * burst_seconds
        self.tokens, self.stamp = self.capacity, 0.0

    def admit(self, at: float) -> float | None:
        """None when admitted, else the Retry-After in whole seconds."""
        self.tokens = min(self.capacity, self.tokens + (at - self.stamp) * self.rate)
        self.stamp = at
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1.0, math.ceil((1 - self.tokens) / self.rate))


class SlidingWindow:
    def __init__(self, rate: float, seconds: float = 60.0) -> None:
        self.posts, self.seconds = int(rate * seconds), seconds
        self.times: deque[float] = deque()

    def admit(self, at: float) -> float | None:
        while self.times and self.times[0] <= at - self.seconds:
            self.times.popleft()
        if len(self.times) < self.posts:
            self.times.append(at)
            return None
        return max(1.0, math.ceil(self.times[0] + self.seconds - at))


Workspace = TokenBucket | SlidingWindow


@dataclass
class Drain:
    seconds: float
    accepted: int
    refused: int
    pace: WorkspacePace

    def share_of(self, limit: float) -> float:
        return self.accepted / (limit * self.seconds)

    @property
    def share_refused(self) -> float:
        return self.refused / (self.accepted + self.refused)


def drain(workspace: Workspace, posts: int, pace: WorkspacePace, start: float = 0.0) -> Drain:
    """Send `posts` as the sender does: paced, concurrently, a refused post tried again."""
    now, backlog, accepted, refused = start, posts, 0, 0
    in_flight: list[tuple[float, int, float | None]] = []
    sequence = 0
    while accepted < posts:
        while backlog and len(in_flight) < CONCURRENCY and pace.wait(now) == 0:
            pace.take(now)
            backlog -= 1
            sequence += 1
            answer = workspace.admit(now + LATENCY / 2)
            heapq.heappush(in_flight, (now + LATENCY, sequence, answer))
        wait = pace.wait(now) if backlog and len(in_flight) < CONCURRENCY else math.inf
        next_answer = in_flight[0][0] if in_flight else math.inf
        now = max(now, min(now + wait, next_answer)) + 1e-9
        while in_flight and in_flight[0][0] <= now:
            _, _, retry_after = heapq.heappop(in_flight)
            if retry_after is None:
                accepted += 1
                pace.succeeded(now)
            else:
                refused += 1
                backlog += 1
                pace.refused(now, retry_after)
    return Drain(now - start, accepted, refused, pace)


def workspace_of(shape: str, limit: float) -> Workspace:
    if shape == "window":
        return SlidingWindow(limit)
    return TokenBucket(limit, burst_seconds=float(shape.removeprefix("bucket")))


SHAPES = ["bucket1", "bucket3", "bucket5", "window"]
LIMITS = [3.0, 5.0, 10.0, 15.0, 20.0]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("limit", LIMITS)
def test_a_bulk_drain_reaches_the_limit_with_few_posts_refused(shape: str, limit: float) -> None:
    result = drain(workspace_of(shape, limit), 2000, WorkspacePace(RateBounds(START), now=0.0))

    assert result.share_of(limit) >= 0.85
    assert result.share_refused <= 0.02


@pytest.mark.parametrize("shape", ["bucket1", "bucket3"])
@pytest.mark.parametrize("limit", LIMITS)
def test_a_restart_resumes_from_the_saved_rate(shape: str, limit: float) -> None:
    workspace = workspace_of(shape, limit)
    before = drain(workspace, 1000, WorkspacePace(RateBounds(START), now=0.0))
    resumed = WorkspacePace(
        RateBounds(START),
        now=before.seconds,
        rate=before.pace.rate,
        refused_rate=before.pace.refused_rate,
    )

    after = drain(workspace, 1000, resumed, start=before.seconds)

    assert after.share_of(limit) >= 0.85
    assert after.share_refused <= 0.02


def test_a_429_holds_the_workspace_for_retry_after_and_cuts_the_rate_once() -> None:
    pace = WorkspacePace(RateBounds(start=10.0), now=0.0)
    for moment in range(20):
        pace.wait(moment / 10)
        pace.take(moment / 10)
        pace.succeeded(moment / 10)
    before = pace.rate

    pace.refused(2.0, retry_after=3.0)
    pace.refused(2.01, retry_after=3.0)  # a second post already in flight

    assert pace.wait(2.5) == pytest.approx(2.51), "held until the later Retry-After"
    assert pace.wait(5.01) == 0, "one post may go as the hold ends"
    assert pace.rate == pytest.approx(before * 0.85), "one cut for one episode"
    assert pace.refusals == 2


def test_idle_time_does_not_raise_the_rate() -> None:
    pace = WorkspacePace(RateBounds(start=5.0), now=0.0)
    for second in range(100):
        assert pace.wait(float(second)) == 0
        pace.take(float(second))
        pace.succeeded(float(second))

    assert pace.rate == 5.0, "one post a second proves nothing about a limit above it"


def test_a_429_soon_after_the_last_cut_halves_the_rate() -> None:
    pace = WorkspacePace(RateBounds(start=8.0), now=0.0)
    pace.wait(0.0)
    pace.take(0.0)
    pace.succeeded(0.0)
    pace.refused(0.1, retry_after=1.0)
    first_cut = pace.rate
    pace.succeeded(1.2)  # too few successes to tell the limit

    pace.refused(1.3, retry_after=1.0)

    assert first_cut == pytest.approx(8.0 * 0.85)
    assert pace.rate == pytest.approx(first_cut * 0.5), "far above the limit: come down fast"


@pytest.mark.parametrize("limit", [4.0, 15.0])
def test_a_short_drain_like_the_benchmarks_has_few_posts_refused(limit: float) -> None:
    result = drain(workspace_of("bucket3", limit), 300, WorkspacePace(RateBounds(START), now=0.0))

    assert result.share_of(limit) >= 0.85
    assert result.share_refused <= 0.02
