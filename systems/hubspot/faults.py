"""Switchable misbehaviour and HubSpot's rate limits, so connectors meet them in tests."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

INTERVAL_MS = 10_000  # HubSpot's rolling window for private apps


@dataclass
class Faults:
    """Errors to serve before normal answers, in order: (status, policyName or "", Retry-After).

    A 429 is HubSpot's rate-limit answer (``policyName`` ``TEN_SECONDLY_ROLLING`` or
    ``DAILY``); any other status is a server error (502, 503 …) in HubSpot's envelope.
    ``refusal`` refuses every write with (status, category, message).
    """

    queue: deque[tuple[int, str, int | None]] = field(default_factory=deque)
    calls_before_failing: int = 0
    refusal: tuple[int, str, str] | None = None

    def fail_next(
        self, status: int, policy: str = "", times: int = 1, retry_after: int | None = None
    ) -> None:
        self.queue.extend([(status, policy, retry_after)] * times)

    def rate_limit(self, times: int = 1, policy: str = "TEN_SECONDLY_ROLLING") -> None:
        """HubSpot's 429 (no ``Retry-After``: the window's length is in the headers)."""
        self.fail_next(429, policy, times)

    def outage(self, times: int = 3, status: int = 502) -> None:
        self.fail_next(status, "", times)

    def refuse_writes(self, category: str = "VALIDATION_ERROR", message: str = "") -> None:
        self.refusal = (400, category, message or f"Simulated {category}.")

    def take(self) -> tuple[int, str, int | None] | None:
        if self.queue and self.calls_before_failing > 0:
            self.calls_before_failing -= 1
            return None
        return self.queue.popleft() if self.queue else None


@dataclass
class RateLimits:
    """HubSpot's limits for a private app: ``max_per_interval`` calls per rolling 10 s and
    ``daily`` calls a day. Over either → 429 with the policy that was hit."""

    max_per_interval: int = 190
    daily: int = 1_000_000
    calls: deque[float] = field(default_factory=deque)
    used_today: int = 0

    def take(self) -> str | None:
        """Count one call; the policy it breaks, if any (a refused call is not counted)."""
        now = time.monotonic()
        while self.calls and now - self.calls[0] >= INTERVAL_MS / 1000:
            self.calls.popleft()
        if self.used_today >= self.daily:
            return "DAILY"
        if len(self.calls) >= self.max_per_interval:
            return "TEN_SECONDLY_ROLLING"
        self.calls.append(now)
        self.used_today += 1
        return None

    def headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - self.used_today)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(INTERVAL_MS),
            "X-HubSpot-RateLimit-Max": str(self.max_per_interval),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.max_per_interval - len(self.calls))),
        }
