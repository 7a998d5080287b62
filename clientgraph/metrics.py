"""The process's Prometheus metrics: counters and histograms that events in this process move.

Gateway and worker each have these in their own default registry and serve them on their own
``/metrics`` (the gateway's port; the worker's ``--health-port``). Values that live in the
database or in Redis (queue depth, lag, dead letters) are not here: they are read when a
scrape comes (``gateway/ops/readings.py``), so every process that serves them agrees.
docs/operations.md ("Metrics") names each one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import on_statement

REQUEST_SECONDS = Histogram(
    "clientgraph_graphql_request_seconds",
    "Time to execute one GraphQL operation over HTTP, by operation name.",
    ["operation"],
)
REQUEST_ERRORS = Counter(
    "clientgraph_graphql_request_errors_total",
    "GraphQL operations answered with errors, by operation name and first error code.",
    ["operation", "code"],
)
SQL_STATEMENTS = Histogram(
    "clientgraph_graphql_sql_statements",
    "SQL statements one GraphQL operation ran (an N+1 shows up as a long tail).",
    ["operation"],
    buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)
COMPILED_READS = Counter(
    "clientgraph_graphql_compiled_reads",
    "HTTP queries offered to the planner (resolvers/planner), by outcome: compiled (one "
    "statement), not_compiled (the document: figures, filters…), fallback (this request: "
    "an error or row the per-field path must answer), failed (an unexpected error: logged).",
    ["outcome"],
)
SHORT_PATH = Counter(
    "clientgraph_graphql_short_path",
    "HTTP queries of a proven plan and mutations of a proven document (gateway/short_path.py), "
    "by outcome: answered (without strawberry's pipeline), pipeline (over a limit, or this "
    "request needed the per-field path: the whole pipeline answered it).",
    ["outcome"],
)
HIT_CHECKS = Counter(
    "clientgraph_response_cache_checks",
    "Statements reading the change counters for response-cache hits on PostgreSQL, each "
    "shared by the hits asking at once (resolvers/planner/hit_check.py): divided by the hits "
    "(clientgraph_cache_lookups_total), the statements per hit.",
)
LEASES = Counter(
    "clientgraph_response_cache_leases",
    "The change counters' lease on PostgreSQL (resolvers/planner/lease.py), by outcome: taken "
    "(the process serves hits with no statement until a writer commits), lost (its connection "
    "failed or was ended: hits check the counters by a statement until it is taken again).",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "clientgraph_rate_limit_refusals_total",
    "Requests refused with 429 by the caller's rate limit, by role and window.",
    ["role", "window"],
)
WEBHOOK_REJECTS = Counter(
    "clientgraph_webhook_rejects_total",
    "Webhook deliveries refused, by source and reason (the error code answered).",
    ["source", "reason"],
)
COMMAND_ATTEMPTS = Counter(
    "clientgraph_command_attempts_total",
    "Attempts of the command worker, by command kind and outcome (SUCCEEDED, FAILED, "
    "DEAD_LETTERED, RETRY, DEFERRED).",
    ["kind", "outcome"],
)
COMMAND_ATTEMPTS_TO_FINISH = Histogram(
    "clientgraph_command_attempts_to_finish",
    "Attempts a command took to reach a final status, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15),
)
HANDOFF_CYCLE_SECONDS = Histogram(
    "clientgraph_handoff_cycle_seconds",
    "From a handoff's creation (the win seen) to COMPLETED.",
    buckets=(10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400),
)
CACHE_LOOKUPS = Counter(
    "clientgraph_cache_lookups_total",
    "Lookups in the process's caches, by cache (parse, validation, persisted_query, "
    "trusted_document, jwks) and result (hit, miss).",
    ["cache", "result"],
)


def cache_lookup(cache: str, hit: bool) -> None:
    """Count one lookup in ``cache``."""
    _lookups(cache, hit).inc()


@lru_cache(maxsize=64)
def _lookups(cache: str, hit: bool) -> Counter:
    """One cache's hits or misses (``labels`` takes a lock at each call; a hot path's cache
    is looked up at every request)."""
    return CACHE_LOOKUPS.labels(cache, "hit" if hit else "miss")


OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_OPERATION_NAMES = 500
"""Operation names are the caller's words: past this many distinct names, new ones are counted
as ``other``, so a client cannot grow the scrape without end."""
_seen_names: set[str] = set()


def operation_label(name: object) -> str:
    """A bounded label for an operation name (``anonymous``, ``invalid``, ``other``); the name
    comes from the request as sent, checked later (it may not even be a string)."""
    if not name:
        return "anonymous"
    if not isinstance(name, str) or not OPERATION_NAME.fullmatch(name):
        return "invalid"
    if name not in _seen_names and len(_seen_names) >= MAX_OPERATION_NAMES:
        return "other"
    _seen_names.add(name)
    return name


_statements: ContextVar[list[int] | None] = ContextVar("clientgraph_sql_statements", default=None)


def count_sql(engine: AsyncEngine) -> None:
    """Count each statement ``engine`` runs into the current ``counting_sql`` block, if any."""

    def _before(_sql: str) -> None:
        counter = _statements.get()
        if counter is not None:
            counter[0] += 1

    on_statement(engine, _before)


@contextmanager
def counting_sql() -> Iterator[list[int]]:
    """``[n]``: the statements run in this block (and the tasks it starts) so far."""
    counter = [0]
    token = _statements.set(counter)
    try:
        yield counter
    finally:
        _statements.reset(token)


def exposition(*scraped: Collector) -> bytes:
    """This process's metrics in Prometheus' text format, then those ``scraped`` just now."""
    text = generate_latest(REGISTRY)
    if not scraped:
        return text
    registry = CollectorRegistry(auto_describe=False)
    for collector in scraped:
        registry.register(collector)
    return text + generate_latest(registry)
