"""The arq worker's settings, built from ``Settings``: the one place jobs are registered.

``clientgraph worker`` runs it. Registration is data: ``FUNCTIONS`` lists each job with its
timeout and tries; ``cron_jobs`` pulls every scheduled source each ``sync.interval_seconds``
and reconciles it each ``sync.reconcile_interval_seconds``. arq crons fire at sets of clock
times, so an interval becomes a set of seconds (under a minute), minutes (under an hour) or
hours, aligned to the clock: an interval that does not divide the minute/hour evenly gives
uneven gaps at the wrap (45 s fires at :00 and :45), and intervals are rounded to whole
seconds, minutes or hours above those thresholds.

Every cron job is ``unique``: its job id is ``cron:pull_source:<source>:<slot time>``, so any
number of workers enqueue and run one pull per source per slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import partial
from typing import Any, cast

from arq import Worker, cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, func

from clientgraph.settings import Settings
from sync_jobs.commands.execute import (
    APPLY_KEEP_RESULT_SECONDS,
    APPLY_MAX_TRIES,
    APPLY_TIMEOUT_SECONDS,
    apply_command,
)
from sync_jobs.commands.relay import relay_commands
from sync_jobs.context import DEPS_KEY, close_deps, open_deps, scheduled_sources
from sync_jobs.dispatch import QUEUE_NAME
from sync_jobs.handoff.triggers import advance_handoff
from sync_jobs.jobs import Job, pull_source, reconcile_source, refresh_records

PULL_TIMEOUT_SECONDS = 900  # a first full pull of a large source takes minutes
REFRESH_TIMEOUT_SECONDS = 60  # a webhook hint re-reads a handful of records
RECONCILE_TIMEOUT_SECONDS = 1800  # id sets of every object of a source
RELAY_TIMEOUT_SECONDS = 60  # one sweep of the command log
ADVANCE_HANDOFF_TIMEOUT_SECONDS = 60  # reads and logs; the steps' writes are commands
RELAY_SECONDS = set(range(0, 60, 10))  # the worker's command-log sweep: every 10 s


def functions(settings: Settings) -> list[Function]:
    """The jobs a worker runs when enqueued, with their timeouts and tries.

    Pulls and reconciliations run once (their next scheduled slot is the retry); a refresh
    is retried ``sync.max_retries`` times, deferred as the job asks (``arq.Retry``).
    """
    table: Sequence[tuple[Job, int, int]] = (
        (pull_source, PULL_TIMEOUT_SECONDS, 1),
        (refresh_records, REFRESH_TIMEOUT_SECONDS, settings.sync.max_retries + 1),
        (reconcile_source, RECONCILE_TIMEOUT_SECONDS, 1),
        (advance_handoff, ADVANCE_HANDOFF_TIMEOUT_SECONDS, 1),  # each sweep retries it
    )
    jobs = [
        func(cast(WorkerCoroutine, job), timeout=timeout, max_tries=tries)
        for job, timeout, tries in table
    ]
    # a command's row counts its attempts and holds its outcome (sync_jobs.commands.execute)
    command = func(
        cast(WorkerCoroutine, apply_command),
        timeout=APPLY_TIMEOUT_SECONDS,
        max_tries=APPLY_MAX_TRIES,
        keep_result=APPLY_KEEP_RESULT_SECONDS,
    )
    return [*jobs, command]


@dataclass(frozen=True)
class CronTimes:
    """The clock times an arq cron fires at (``None``: every hour / every minute)."""

    second: set[int]
    minute: set[int] | None = None
    hour: set[int] | None = None


def schedule(interval_seconds: float) -> CronTimes:
    """arq cron time sets firing about every ``interval_seconds``, aligned to the clock."""
    seconds = max(1, round(interval_seconds))
    if seconds < 60:
        return CronTimes(second=set(range(0, 60, seconds)))
    minutes = round(seconds / 60)
    if minutes < 60:
        return CronTimes(second={0}, minute=set(range(0, 60, minutes)))
    hours = min(24, round(minutes / 60))
    return CronTimes(second={0}, minute={0}, hour=set(range(0, 24, hours)))


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The command-log sweep, and a unique pull and reconciliation cron per scheduled source."""
    sync = settings.sync
    jobs = [_relay_cron()]  # commands accepted while no gateway could queue them
    for source in scheduled_sources(settings):
        jobs.append(_cron(pull_source, source, PULL_TIMEOUT_SECONDS, sync.interval_seconds))
        jobs.append(
            _cron(
                reconcile_source, source, RECONCILE_TIMEOUT_SECONDS, sync.reconcile_interval_seconds
            )
        )
    return jobs


def _relay_cron() -> CronJob:
    return cron(
        cast(WorkerCoroutine, relay_commands),
        name="cron:relay_commands",
        timeout=RELAY_TIMEOUT_SECONDS,
        second=RELAY_SECONDS,
        unique=True,
        keep_result=10.0,
    )


def _cron(job: Job, source: str, timeout: int, interval: float) -> CronJob:
    """``job(ctx, source)`` every ``interval``; unique, so one run per slot across workers."""
    times = schedule(interval)
    return cron(
        cast(WorkerCoroutine, partial(job, source=source)),  # arq crons pass only ctx
        name=f"cron:{job.__name__}:{source}",
        timeout=timeout,
        second=times.second,
        minute=times.minute,
        hour=times.hour,
        unique=True,
        keep_result=max(60.0, interval),  # the kept result blocks a late duplicate of the slot
    )


def worker_settings(
    settings: Settings, *, queue_name: str = QUEUE_NAME, crons: bool = True
) -> dict[str, Any]:
    """Keyword arguments of ``arq.Worker``; ``crons=False`` for a burst run (crons never end).

    ``on_startup`` builds the jobs' ``ctx["deps"]`` (engine, one limited HTTP client and
    connector per source); ``on_shutdown`` closes them.
    """
    if settings.redis_url is None:
        raise ValueError("the worker needs CLIENTGRAPH_REDIS_URL")

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[DEPS_KEY] = await open_deps(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if DEPS_KEY in ctx:
            await close_deps(ctx[DEPS_KEY])

    return {
        "functions": functions(settings),
        "cron_jobs": cron_jobs(settings) if crons else [],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url.get_secret_value()),
        "queue_name": queue_name,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "timezone": UTC,
    }


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run the worker until SIGINT/SIGTERM, or with ``burst`` until the queue is empty."""
    asyncio.run(_run(settings, burst))


async def _run(settings: Settings, burst: bool) -> None:
    # built inside the running loop: arq's Worker binds the current loop when created
    worker = Worker(**worker_settings(settings, crons=not burst), burst=burst)
    try:
        await worker.async_run()
    finally:
        await worker.close()
