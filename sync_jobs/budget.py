"""A source's request budget: how many requests may be in flight, and how fast they start.

``LimitedTransport`` asks a ``Budget`` for a slot and for its turn before every request. Two
kinds keep the same promise at different reach:

* ``LocalBudget`` — one process's own budget (a semaphore and a token bucket). Used when
  clientgraph runs embedded (no Redis), and in tests that count waits without waiting.
* ``SharedBudget`` (``sync_jobs.shared_limits``) — one budget for every process that talks
  to the same source account, kept in Redis, so N workers together stay inside what the
  source allows its whole account (NetSuite's concurrency limit is per account, not per
  connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class Budget(Protocol):
    """Concurrency and request rate of one source, however far they are shared."""

    def slot(self) -> AbstractAsyncContextManager[object]:
        """Hold one of the source's concurrency slots for the duration of a request."""
        ...

    async def pace(self) -> None:
        """Wait until the source's request rate allows one more request to start."""
        ...


class TokenBucket:
    """Allows ``rate`` acquisitions per second on average, bursts up to ``capacity``.

    Callers reserve a token at once (the count may go negative) and sleep off their debt, so
    concurrent callers are spaced ``1 / rate`` apart without a lock.
    """

    def __init__(self, rate: float, capacity: float = 1.0, *, clock: Clock, sleep: Sleep) -> None:
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()

    async def acquire(self) -> None:
        """Take one token, waiting until it has accrued."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1
        if self._tokens < 0:
            await self._sleep(-self._tokens / self._rate)


class LocalBudget:
    """This process's budget: at most ``max_concurrency`` in flight, ``rate`` starts a second."""

    def __init__(self, max_concurrency: int, rate: float, *, clock: Clock, sleep: Sleep) -> None:
        self._slots = asyncio.Semaphore(max_concurrency)
        self._bucket = TokenBucket(rate, clock=clock, sleep=sleep)

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self._slots

    async def pace(self) -> None:
        await self._bucket.acquire()
