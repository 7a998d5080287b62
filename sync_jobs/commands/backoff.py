"""How long a command waits before its next attempt after a transient source error.

Exponential back-off with full jitter (a uniform draw between zero and the exponential
ceiling): many workers that failed together do not come back together, which is what keeps a
429 storm from renewing itself. The wait is never shorter than the source's ``Retry-After``.
Pure, so the numbers are unit-tested without waiting.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BACKOFF_BASE_SECONDS = 1.0  # the ceiling of the first wait; doubles with every attempt
BACKOFF_CAP_SECONDS = 60.0  # no ceiling is higher: a longer outage is what dead-letters


def backoff_seconds(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    draw: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first).

    Args:
        attempt: attempts made so far, counting the one that just failed.
        retry_after: what the source asked for (``Retry-After``), honoured as a floor even
            above ``cap``: asking again sooner would only be refused again.
        base: the first ceiling. cap: the largest ceiling.
        draw: a number in [0, 1) (injectable for tests).
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return max(retry_after or 0.0, ceiling * draw())
