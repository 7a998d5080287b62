"""Per-source rate limits as an httpx transport: concurrency, request rate, 429/503 back-off.

Every connector's HTTP client is wrapped in a ``LimitedTransport`` built from its
``SourceSettings``, so each client gets the same manners without knowing about them:

* at most ``max_concurrency`` requests in flight (a semaphore);
* at most ``requests_per_second`` requests started per second (a token bucket);
* a 429 or 503 is retried up to ``max_retries`` times, waiting what ``Retry-After`` asks
  (plus a little jitter, so many workers do not return in the same instant), or an
  exponential back-off with jitter when the header is missing. When retries run out, or the
  source asks for a wait longer than ``max_wait_seconds``, the response is handed through and
  the client raises its typed error: a long pause belongs to the scheduler, not to a worker
  sleeping on a slot;
* an *idempotent* request — a read (GET, or a POST its sender marked safe to repeat:
  SuiteQL, Tryton's search, a token request) or a PUT (NetSuite's upsert by external id) —
  is also retried on 500, 502 and 504 and on a timeout or a broken connection, with the same
  back-off, so one bad answer does not fail a whole pull or spend a command's attempt. Other
  writes (POST, PATCH) are not: their retries belong to the command executor, which knows
  the write's key and counts its attempts.

A 403 ``REQUEST_LIMIT_EXCEEDED`` (a daily quota) is not retried here: waiting seconds cannot
help, and the job pauses the source instead (``sync_jobs.jobs``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from sync_jobs.budget import Budget, Clock, LocalBudget, Sleep

RETRY_STATUS = frozenset({429, 503})
IDEMPOTENT_RETRY_STATUS = frozenset({500, 502, 503, 504})  # resent after these too
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # RFC 9110 §9.2.2
# A 503 may come from a proxy after the source already did the work: a POST is resent only
# when its sender marked it safe to repeat (a read sent as POST: SuiteQL, Tryton's search).
# A 429 means the request was refused unprocessed, so it is always resent.
SAFE_TO_REPEAT = "clientgraph.safe_to_repeat"  # a request extension
BACKOFF_BASE_SECONDS = 0.5  # first wait without Retry-After; doubles each retry
BACKOFF_CAP_SECONDS = 30.0  # no single back-off wait is longer
MAX_WAIT_SECONDS = 60.0  # a longer Retry-After is handed to the scheduler
JITTER_SECONDS = 0.25  # at most this much is added to a Retry-After wait


class LimitedTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner`` with one source's concurrency cap, rate cap and 429/503 retries.

    ``budget`` is where the caps are kept: this process's own (``LocalBudget``, built from
    ``max_concurrency`` and ``requests_per_second`` when none is given) or one shared by every
    process through Redis (``sync_jobs.shared_limits``). ``sleep``, ``clock`` and ``jitter``
    (a number in [0, 1)) are injectable so tests can count the waits without waiting.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        max_concurrency: int,
        requests_per_second: float,
        max_retries: int,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
        budget: Budget | None = None,
    ) -> None:
        self._inner = inner
        self._budget = budget or LocalBudget(
            max_concurrency, requests_per_second, clock=clock, sleep=sleep
        )
        self._max_retries = max_retries
        self._max_wait = max_wait_seconds
        self._sleep = sleep
        self._jitter = jitter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # a retry must be able to send the body again
        attempt = 0
        while True:
            try:
                response = await self._send(request)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError):
                if not is_idempotent(request) or attempt >= self._max_retries:
                    raise
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            wait = self._retry_wait(request, response, attempt)
            if wait is None:
                return response
            await response.aclose()
            await self._sleep(wait)  # outside the semaphore: waiting holds no slot
            attempt += 1

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """One attempt, holding a slot until the whole answer is read: a source counts a
        request as running until its last byte is sent, so the slot must too."""
        async with self._budget.slot():
            await self._budget.pace()
            response = await self._inner.handle_async_request(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            return response

    def _retry_wait(
        self, request: httpx.Request, response: httpx.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying, or ``None`` to hand the response through."""
        status = response.status_code
        if attempt >= self._max_retries or not self._retryable(request, status):
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            return self._backoff(attempt)
        if asked > self._max_wait:
            return None
        return asked + JITTER_SECONDS * self._jitter()

    @staticmethod
    def _retryable(request: httpx.Request, status: int) -> bool:
        if status == 429:  # refused unprocessed
            return True
        if status == 503 and safe_to_repeat(request):
            return True
        return status in IDEMPOTENT_RETRY_STATUS and is_idempotent(request)

    def _backoff(self, attempt: int) -> float:
        backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
        return backoff * (0.5 + self._jitter() / 2)


def is_idempotent(request: httpx.Request) -> bool:
    """Sending it twice has the effect of sending it once: GET, HEAD, OPTIONS, PUT, DELETE,
    or a POST its sender marked ``SAFE_TO_REPEAT``."""
    return request.method in IDEMPOTENT_METHODS or bool(request.extensions.get(SAFE_TO_REPEAT))


def safe_to_repeat(request: httpx.Request) -> bool:
    """Any method but POST, or a POST its sender marked ``SAFE_TO_REPEAT``."""
    return request.method != "POST" or bool(request.extensions.get(SAFE_TO_REPEAT))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; ``None`` if absent or bad."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
