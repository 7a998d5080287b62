"""What can go wrong talking to a system of record. Retry policy depends on the class."""

from __future__ import annotations

import re
from collections.abc import Sequence

MARKUP = re.compile(r"<[^>]*>")
MAX_TEXT = 300  # an error's text as stored and shown: a sentence, never a page


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


class LoginFailed(PermanentSourceError):
    """The source would not let us in: a setting is wrong, and retrying will not help.

    The message says what the source answered and which settings to check, e.g.
    ``tryton refused user 'admin' on database 'clientgraph' (wrong login or password); check
    CLIENTGRAPH_TRYTON__LOGIN and CLIENTGRAPH_TRYTON__PASSWORD``. It never holds a secret.
    """

    CODE = "AUTHENTICATION_FAILED"

    def __init__(self, problem: str, settings: Sequence[str]) -> None:
        super().__init__(self.CODE, f"{problem}; check {' and '.join(settings)}")
        self.settings = tuple(settings)


def error_text(error: BaseException) -> str:
    """``"<Type>: <message>"`` as stored in ``sync_state.last_error`` and printed by the CLI.

    Markup is dropped and whitespace folded, so a server's HTML error page never ends up in
    the graph; messages are built without secrets (no connector puts one in its errors).
    """
    message = " ".join(MARKUP.sub(" ", str(error)).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
