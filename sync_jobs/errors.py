"""What can go wrong talking to a system of record. Retry policy depends on the class."""

from __future__ import annotations


class SourceError(Exception):
    """A system of record did not do what was asked."""


class TransientSourceError(SourceError):
    """Worth retrying later: 408, 429, 5xx, timeouts, connection errors."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExhausted(TransientSourceError):
    """The source's daily API quota is used up: stop this source until it resets."""


class PermanentSourceError(SourceError):
    """Retrying will not help: the source refused with its own code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
