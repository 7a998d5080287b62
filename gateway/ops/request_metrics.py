"""Latency, errors and SQL statements of each GraphQL operation over HTTP, by its name."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from strawberry.types import ExecutionResult

from clientgraph.metrics import (
    MAX_OPERATION_NAMES,
    REQUEST_ERRORS,
    REQUEST_SECONDS,
    SQL_STATEMENTS,
    counting_sql,
    operation_label,
)
from schema.errors import classify

FIRST_NAMED = re.compile(r"\b(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)")
"""The first named operation of a document: its name when the request gives none (a document
with several operations must name one, so the request's name wins)."""


def operation_name(given: object, document: object) -> object:
    if given or not isinstance(document, str):
        return given
    found = FIRST_NAMED.search(document)
    return found.group(1) if found else None


async def observed(
    name: str | None, document: str | None, run: Callable[[], Awaitable[ExecutionResult]]
) -> ExecutionResult:
    """``run()``'s result, timed, its statements counted and its first error's code counted."""
    label = operation_label(operation_name(name, document))
    started = time.perf_counter()
    with counting_sql() as statements:
        try:
            result = await run()
        except Exception as error:
            REQUEST_ERRORS.labels(label, getattr(error, "code", None) or "EXCEPTION").inc()
            raise
        finally:
            _timed(label, started, statements[0])
    if result.errors:
        REQUEST_ERRORS.labels(label, _code(result)).inc()
    return result


def answered(
    name: str | None, document: str | None, started: float, statements: int, result: ExecutionResult
) -> None:
    """An answer given without ``observed`` around it (the short path), counted as it would."""
    label = operation_label(operation_name(name, document))
    _timed(label, started, statements)
    if result.errors:
        REQUEST_ERRORS.labels(label, _code(result)).inc()


def _timed(label: str, started: float, statements: int) -> None:
    seconds, sql = _series(label)
    seconds.observe(time.perf_counter() - started)
    sql.observe(statements)


@lru_cache(maxsize=MAX_OPERATION_NAMES + 8)
def _series(label: str) -> tuple[Any, Any]:
    """An operation's latency and statements histograms (``labels`` looks them up under a
    lock at each call; the labels are bounded by ``operation_label``)."""
    return REQUEST_SECONDS.labels(label), SQL_STATEMENTS.labels(label)


def _code(result: ExecutionResult) -> str:
    assert result.errors
    extensions = classify(result.errors[0]).extensions or {}
    return str(extensions.get("code") or "ERROR")
