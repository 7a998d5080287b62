"""The retry schedule of a command: exponential ceilings, full jitter, Retry-After as a floor."""

from __future__ import annotations

import random

from sync_jobs.commands.backoff import BACKOFF_CAP_SECONDS, backoff_seconds


def test_the_ceiling_doubles_from_one_second_up_to_the_cap() -> None:
    top = [backoff_seconds(n, draw=lambda: 0.999999) for n in range(1, 10)]

    assert [round(t) for t in top] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_full_jitter_spreads_waits_between_zero_and_the_ceiling() -> None:
    rng = random.Random(4)
    waits = [backoff_seconds(5, draw=rng.random) for _ in range(500)]

    assert min(waits) < 1.0 and max(waits) > 15.0  # spread over [0, 16)
    assert all(0.0 <= w < 16.0 for w in waits)
    assert backoff_seconds(3, draw=lambda: 0.0) == 0.0


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    assert backoff_seconds(1, retry_after=5, draw=lambda: 0.5) == 5
    assert backoff_seconds(9, retry_after=2, draw=lambda: 0.5) == BACKOFF_CAP_SECONDS / 2
    assert backoff_seconds(1, retry_after=600, draw=lambda: 0.9) == 600
