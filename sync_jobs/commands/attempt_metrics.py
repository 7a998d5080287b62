"""Counts each attempt of ``apply_command`` by its outcome (``clientgraph.metrics``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from arq import Retry

from clientgraph.metrics import COMMAND_ATTEMPTS, COMMAND_ATTEMPTS_TO_FINISH

FINAL = frozenset({"SUCCEEDED", "FAILED", "DEAD_LETTERED"})
Report = dict[str, Any]


@asynccontextmanager
async def counted_attempt(
    kind: str, attempt: int
) -> AsyncIterator[Callable[[Report], Report]]:
    """Yields a function that counts the attempt's report; a ``Retry`` counts as RETRY and any
    other exception as ERROR (arq records it)."""

    def count(report: Report) -> Report:
        outcome = str(report.get("status", "UNKNOWN"))
        outcome = outcome if outcome in FINAL or not report.get("skipped") else "SKIPPED"
        COMMAND_ATTEMPTS.labels(kind, outcome if outcome in FINAL else "DEFERRED").inc()
        if outcome in FINAL:
            COMMAND_ATTEMPTS_TO_FINISH.labels(kind, outcome).observe(attempt)
        return report

    try:
        yield count
    except Retry:
        COMMAND_ATTEMPTS.labels(kind, "RETRY").inc()
        raise
    except Exception:
        COMMAND_ATTEMPTS.labels(kind, "ERROR").inc()
        raise
