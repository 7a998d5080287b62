"""What ``/metrics`` reads when a scrape comes: the read model's open work, each source's
freshness and the queues' depth in Redis. Bounded reads (``readmodel/reads/operations.py``),
each capped at ``READ_TIMEOUT_SECONDS``; what cannot be read is left out of the scrape and
``clientgraph_scrape_read_ok`` says so."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.reads.freshness import SourceState, SyncStatus, source_states, status_of, sync_states
from readmodel.reads.operations import OpenWork, open_work
from sync_jobs.dispatch import COMMAND_QUEUE_NAME, QUEUE_NAME

log = logging.getLogger(__name__)
READ_TIMEOUT_SECONDS = 3.0  # a scrape must answer well inside Prometheus' 10 s default
QUEUES = (QUEUE_NAME, COMMAND_QUEUE_NAME)
T = TypeVar("T")


@dataclass(frozen=True)
class Readings:
    """One scrape's readings; ``None`` where that part could not be read."""

    now: datetime
    interval_seconds: float
    sources: list[SourceState] | None
    work: OpenWork | None
    queues: dict[str, int] | None
    queued: bool = True  # False when jobs run in-process (no Redis): no queue to read


async def read_sources(
    engine: AsyncEngine, expected: Iterable[tuple[str, str]]
) -> list[SourceState]:
    async with engine.connect() as conn:
        return source_states(await sync_states(conn), expected)


async def read_work(engine: AsyncEngine) -> OpenWork:
    async with engine.connect() as conn:
        return await open_work(conn)


async def queue_depths(redis: Redis) -> dict[str, int]:
    """Jobs waiting in each arq queue (a sorted set per queue)."""
    return {name: int(await redis.zcard(name)) for name in QUEUES}


async def bounded(what: str, reading: Awaitable[T]) -> T | None:
    """The reading, or ``None`` (logged) when it fails or takes too long."""
    try:
        return await asyncio.wait_for(reading, READ_TIMEOUT_SECONDS)
    except Exception:
        log.warning("metrics: %s unreadable", what, exc_info=True)
        return None


class ReadingsCollector(Collector):
    """Turns one scrape's ``Readings`` into gauge families."""

    def __init__(self, readings: Readings) -> None:
        self.readings = readings

    def collect(self) -> Iterator[Metric]:
        r = self.readings
        ok = GaugeMetricFamily(
            "clientgraph_scrape_read_ok",
            "1 when this part of the scrape could be read (database, redis), 0 otherwise.",
            labels=["part"],
        )
        ok.add_metric(["sources"], float(r.sources is not None))
        ok.add_metric(["work"], float(r.work is not None))
        if r.queued:
            ok.add_metric(["queues"], float(r.queues is not None))
        yield ok
        if r.sources is not None:
            yield from _source_families(r.sources, r.now, r.interval_seconds)
        if r.work is not None:
            yield from _work_families(r.work, r.now)
        if r.queues is not None:
            depth = GaugeMetricFamily(
                "clientgraph_queue_depth", "Jobs waiting in an arq queue.", labels=["queue"]
            )
            for name, count in r.queues.items():
                depth.add_metric([name], count)
            yield depth


def _source_families(
    states: Sequence[SourceState], now: datetime, interval: float
) -> Iterator[Metric]:
    labels = ["system", "object_type"]
    lag = GaugeMetricFamily(
        "clientgraph_sync_lag_seconds",
        "Seconds since the last successful pull of a source's object type (absent: never).",
        labels=labels,
    )
    records = GaugeMetricFamily(
        "clientgraph_sync_records_total",
        "Records written by every pull of a source's object type (a counter kept in the "
        "database).",
        labels=labels,
    )
    latest = GaugeMetricFamily(
        "clientgraph_sync_records_last_pull",
        "Records written by the latest pull of a source's object type.",
        labels=labels,
    )
    status = GaugeMetricFamily(
        "clientgraph_sync_status",
        "1 for the freshness status a source's object type is in (ok, stale, failing, "
        "paused, never), 0 for the others.",
        labels=[*labels, "status"],
    )
    for state in states:
        key = [state.system, state.object_type]
        if state.last_success_at is not None:
            lag.add_metric(key, (now - state.last_success_at).total_seconds())
        records.add_metric(key, state.records_applied_total)
        latest.add_metric(key, state.records_applied)
        current = status_of(state, now, interval)
        for each in SyncStatus:
            status.add_metric([*key, each.value], float(each is current))
    yield from (lag, records, latest, status)


def _work_families(work: OpenWork, now: datetime) -> Iterator[Metric]:
    commands = GaugeMetricFamily(
        "clientgraph_commands",
        "Commands in the log by status (open ones, FAILED and DEAD_LETTERED; not SUCCEEDED "
        "or CANCELLED).",
        labels=["status"],
    )
    for name, count in work.commands.items():
        commands.add_metric([name], count)
    dead = GaugeMetricFamily(
        "clientgraph_command_dead_letters",
        "Commands DEAD_LETTERED (transient failures until attempts ran out): retry or cancel.",
        value=work.commands.get("DEAD_LETTERED", 0),
    )
    oldest = GaugeMetricFamily(
        "clientgraph_command_oldest_accepted_seconds",
        "Age of the oldest command still ACCEPTED (not yet queued); 0 when none is.",
        value=0.0 if work.oldest_accepted_at is None else
        max(0.0, (now - work.oldest_accepted_at).total_seconds()),
    )
    exceptions = GaugeMetricFamily(
        "clientgraph_integration_exceptions_open",
        "Open integration exceptions, by source system and kind.",
        labels=["system", "kind"],
    )
    for (system, kind), count in sorted(work.exceptions.items()):
        exceptions.add_metric([system, kind], count)
    handoffs = GaugeMetricFamily(
        "clientgraph_handoffs", "Handoffs not yet COMPLETED or CANCELLED, by status.",
        labels=["status"],
    )
    for name, count in work.handoffs.items():
        handoffs.add_metric([name], count)
    yield from (commands, dead, oldest, exceptions, handoffs)
