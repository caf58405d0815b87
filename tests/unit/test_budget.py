"""Retry waits, the request budget and request statistics."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from connectwise.client.budget import (
    DEFAULT_RETRY_AFTER,
    RequestBudget,
    RequestStats,
    backoff_delay,
    retry_after_delay,
)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def make_budget(per_minute: int) -> tuple[RequestBudget, FakeClock]:
    clock = FakeClock()
    return RequestBudget(per_minute, clock=clock, sleep=clock.sleep), clock


# --- retry_after_delay -----------------------------------------------------------------------


def test_retry_after_delay_uses_the_header_seconds() -> None:
    assert retry_after_delay("7", cap=60) == 7.0


def test_retry_after_delay_caps_a_long_wait() -> None:
    assert retry_after_delay("3600", cap=60) == 60.0


def test_retry_after_delay_defaults_when_the_header_is_missing() -> None:
    assert retry_after_delay(None, cap=120) == DEFAULT_RETRY_AFTER


def test_retry_after_delay_defaults_when_the_header_is_not_seconds() -> None:
    assert retry_after_delay("Wed, 21 Oct 2015 07:28:00 GMT", cap=120) == DEFAULT_RETRY_AFTER


def test_retry_after_delay_caps_the_default_too() -> None:
    assert retry_after_delay(None, cap=5) == 5.0


def test_retry_after_delay_never_returns_a_negative_wait() -> None:
    assert retry_after_delay("-10", cap=60) == 0.0


def test_retry_after_delay_with_zero_cap_waits_nothing() -> None:
    assert retry_after_delay("30", cap=0) == 0.0


# --- backoff_delay ---------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_delay_stays_between_half_and_all_of_the_exponential_ceiling(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(10.0, 0.5 * 2**attempt)
    delays = [backoff_delay(attempt, base=0.5, cap=10.0, rng=rng) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)


def test_backoff_delay_never_exceeds_the_cap_for_late_attempts() -> None:
    rng = random.Random(1)
    assert max(backoff_delay(40, base=0.5, cap=3.0, rng=rng) for _ in range(100)) <= 3.0


def test_backoff_delay_is_jittered() -> None:
    rng = random.Random(2)
    assert len({backoff_delay(3, base=1.0, cap=60.0, rng=rng) for _ in range(20)}) > 1


def test_backoff_delay_with_zero_base_is_instant() -> None:
    assert backoff_delay(5, base=0.0, cap=60.0, rng=random.Random(3)) == 0.0


# --- RequestBudget ---------------------------------------------------------------------------


def test_budget_allows_a_short_burst_without_waiting() -> None:
    budget, clock = make_budget(per_minute=60)  # burst capacity: 3 seconds' worth = 3

    for _ in range(3):
        budget.acquire()

    assert clock.sleeps == []


def test_budget_waits_one_interval_once_the_burst_is_spent() -> None:
    budget, clock = make_budget(per_minute=60)
    for _ in range(3):
        budget.acquire()

    budget.acquire()

    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_budget_limits_the_rate_to_per_minute() -> None:
    budget, clock = make_budget(per_minute=120)  # burst 6, then one every 0.5 s
    start = clock.now

    for _ in range(6 + 120):
        budget.acquire()

    assert clock.now - start == pytest.approx(60.0)


def test_budget_refills_while_idle_but_not_beyond_the_burst() -> None:
    budget, clock = make_budget(per_minute=60)
    for _ in range(3):
        budget.acquire()
    clock.now += 3_600  # an hour idle

    for _ in range(3):
        budget.acquire()
    assert clock.sleeps == []

    budget.acquire()
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_budget_of_one_per_minute_still_allows_the_first_request() -> None:
    budget, clock = make_budget(per_minute=1)

    budget.acquire()
    budget.acquire()

    assert sum(clock.sleeps) == pytest.approx(60.0)


# --- RequestStats ----------------------------------------------------------------------------


def test_request_stats_snapshot_reports_counts_and_total_wait() -> None:
    stats = RequestStats()
    for _ in range(3):
        stats.count_request()
    stats.count_retry(1.25, throttled=True)
    stats.count_retry(0.5, throttled=False)

    assert stats.snapshot() == {"requests": 3, "retries": 2, "throttled": 1, "wait_seconds": 1.75}


def test_request_stats_snapshot_rounds_wait_to_milliseconds() -> None:
    stats = RequestStats()
    stats.count_retry(0.1, throttled=False)
    stats.count_retry(0.2, throttled=False)
    stats.count_retry(0.0004, throttled=False)

    assert stats.snapshot()["wait_seconds"] == 0.3


def test_request_stats_snapshot_is_a_copy_not_a_live_view() -> None:
    stats = RequestStats()
    before = stats.snapshot()
    stats.count_request()

    assert before["requests"] == 0
    assert stats.snapshot()["requests"] == 1
