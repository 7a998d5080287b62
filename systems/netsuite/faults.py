"""Switchable misbehaviour, so connectors meet NetSuite's failure modes in tests."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the simulator does wrong, checked before each request is served.

    ``queue``: error answers to give, in order, as (status, o:errorCode, Retry-After), after
    ``calls_before_failing`` good answers. ``delay``: seconds to stall every answer (for
    client timeouts). ``deletions``: records to hard-delete at the source just before the
    next request is served (a user deleting records mid-pull).
    """

    queue: deque[tuple[int, str, int | None]] = field(default_factory=deque)
    calls_before_failing: int = 0
    delay: float = 0.0
    deletions: deque[tuple[str, str]] = field(default_factory=deque)
    refusal: tuple[int, str, str] | None = None  # (status, o:errorCode, detail) for writes

    def refuse_writes(self, code: str = "USER_ERROR", detail: str = "", status: int = 400) -> None:
        """Refuse every create and update (until ``accept_writes``), as a closed accounting
        period or a validation script would, in NetSuite's own error envelope."""
        self.refusal = (status, code, detail or f"Simulated {code}.")

    def accept_writes(self) -> None:
        self.refusal = None

    def fail_next(
        self,
        status: int,
        code: str,
        times: int = 1,
        retry_after: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``times`` requests with this error, after ``after`` normal answers."""
        self.queue.extend([(status, code, retry_after)] * times)
        self.calls_before_failing = after

    def concurrency_limit(self, times: int = 1, retry_after: int | None = 1) -> None:
        """NetSuite's answer when the account runs too many requests at once."""
        self.fail_next(429, "CONCURRENCY_LIMIT_EXCEEDED", times, retry_after)

    def outage(self, times: int = 3, status: int = 503) -> None:
        """A burst of server errors."""
        self.fail_next(status, "UNEXPECTED_ERROR", times)

    def delete_before_next_call(self, record_type: str, record_id: str) -> None:
        self.deletions.append((record_type, record_id))

    def take(self) -> tuple[int, str, int | None] | None:
        """The error to serve now, if any (counting down the good answers first)."""
        if self.queue and self.calls_before_failing > 0:
            self.calls_before_failing -= 1
            return None
        return self.queue.popleft() if self.queue else None
