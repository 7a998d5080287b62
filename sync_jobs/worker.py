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

One ``clientgraph worker`` process runs two arq workers on one set of dependencies: the sync
worker (queue ``clientgraph:queue``: pulls, refreshes, reconciliations, handoffs, the relay
cron) and the command worker (queue ``clientgraph:commands``: ``apply_command`` only). arq
locks a running job for its queue's longest job timeout + 10 s, so the commands' own queue
keeps their lock at 100 s instead of the reconciliation's 30 minutes, and a long pull never
holds a slot a command needs. Both ride out Redis outages (``ResilientWorker``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import partial
from typing import Any, cast

from arq import cron
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
from sync_jobs.context import DEPS_KEY, close_deps, open_deps, scheduled_sources, sync_deps
from sync_jobs.dispatch import COMMAND_QUEUE_NAME, QUEUE_NAME
from sync_jobs.forecast_snapshots import (
    SNAPSHOT_HOUR,
    SNAPSHOT_MINUTE,
    SNAPSHOT_TIMEOUT_SECONDS,
    snapshot_forecast,
)
from sync_jobs.handoff.triggers import advance_handoff
from sync_jobs.jobs import Job, pull_source, reconcile_source, refresh_figures, refresh_records
from sync_jobs.resilient_worker import ResilientWorker
from sync_jobs.worker_health import health_app, serve_health

PULL_TIMEOUT_SECONDS = 900  # a first full pull of a large source takes minutes
REFRESH_TIMEOUT_SECONDS = 60  # a webhook hint re-reads a handful of records
RECONCILE_TIMEOUT_SECONDS = 1800  # id sets of every object of a source
RELAY_TIMEOUT_SECONDS = 60  # one sweep of the command log
ADVANCE_HANDOFF_TIMEOUT_SECONDS = 60  # reads and logs; the steps' writes are commands
FIGURES_TIMEOUT_SECONDS = 1800  # every account's figures and health, for a new day
RELAY_SECONDS = set(range(0, 60, 10))  # the worker's command-log sweep: every 10 s


def functions(settings: Settings) -> list[Function]:
    """The sync jobs a worker runs when enqueued, with their timeouts and tries.

    Pulls and reconciliations run once (their next scheduled slot is the retry); a refresh
    is retried ``sync.max_retries`` times, deferred as the job asks (``arq.Retry``).
    Commands run on their own queue (``command_functions``).
    """
    table: Sequence[tuple[Job, int, int]] = (
        (pull_source, PULL_TIMEOUT_SECONDS, 1),
        (refresh_records, REFRESH_TIMEOUT_SECONDS, settings.sync.max_retries + 1),
        (reconcile_source, RECONCILE_TIMEOUT_SECONDS, 1),
        (advance_handoff, ADVANCE_HANDOFF_TIMEOUT_SECONDS, 1),  # each sweep retries it
        (snapshot_forecast, SNAPSHOT_TIMEOUT_SECONDS, 1),  # the next day's run is the retry
    )
    return [
        func(cast(WorkerCoroutine, job), timeout=timeout, max_tries=tries)
        for job, timeout, tries in table
    ]


def command_functions() -> list[Function]:
    """``apply_command``: a command's row counts its attempts and holds its outcome."""
    command = func(
        cast(WorkerCoroutine, apply_command),
        timeout=APPLY_TIMEOUT_SECONDS,
        max_tries=APPLY_MAX_TRIES,
        keep_result=APPLY_KEEP_RESULT_SECONDS,
    )
    return [command]


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
    """The command-log sweep, the daily refresh of the stored figures, the daily forecast
    snapshot, and a unique pull and reconciliation cron per scheduled source."""
    sync = settings.sync
    jobs = [_relay_cron(), _figures_cron(), _snapshot_cron()]  # relay: commands no gateway queued
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


def _snapshot_cron() -> CronJob:
    return cron(
        cast(WorkerCoroutine, snapshot_forecast),
        name="cron:snapshot_forecast",
        timeout=SNAPSHOT_TIMEOUT_SECONDS,
        hour={SNAPSHOT_HOUR},
        minute={SNAPSHOT_MINUTE},
        second={0},
        unique=True,
        keep_result=3600.0,
    )


def _figures_cron() -> CronJob:
    """Just after 00:00 UTC, and when a worker starts (one started after midnight, or after a
    day without workers, catches up); unique, so one run per day across workers."""
    return cron(
        cast(WorkerCoroutine, refresh_figures),
        name="cron:refresh_figures",
        timeout=FIGURES_TIMEOUT_SECONDS,
        hour={0},
        minute={0},
        second={5},
        unique=True,
        run_at_startup=True,
        keep_result=3600.0,
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
    settings: Settings,
    *,
    queue_name: str = QUEUE_NAME,
    crons: bool = True,
    own_deps: bool = True,
) -> dict[str, Any]:
    """Keyword arguments of the sync worker (``arq.Worker``); ``crons=False`` for a burst run.

    With ``own_deps`` its ``on_startup`` builds the jobs' ``ctx["deps"]`` (engine, one limited
    HTTP client and connector per source) and ``on_shutdown`` closes them; without, the caller
    passes ``ctx={"deps": …}`` shared with the command worker.
    """
    options = _common(settings, queue_name)
    options |= {"functions": functions(settings), "cron_jobs": cron_jobs(settings) if crons else []}
    if own_deps:
        options |= _deps_hooks(settings)
    return options


def command_worker_settings(
    settings: Settings, *, queue_name: str = COMMAND_QUEUE_NAME, own_deps: bool = True
) -> dict[str, Any]:
    """Keyword arguments of the command worker: ``apply_command`` on the commands' queue."""
    options = _common(settings, queue_name) | {"functions": command_functions(), "cron_jobs": []}
    if own_deps:
        options |= _deps_hooks(settings)
    return options


def _common(settings: Settings, queue_name: str) -> dict[str, Any]:
    if settings.redis_url is None:
        raise ValueError("the worker needs CLIENTGRAPH_REDIS_URL")
    return {
        "redis_settings": RedisSettings.from_dsn(settings.redis_url.get_secret_value()),
        "queue_name": queue_name,
        "timezone": UTC,
    }


def _deps_hooks(settings: Settings) -> dict[str, Any]:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx[DEPS_KEY] = await open_deps(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if DEPS_KEY in ctx:
            await close_deps(ctx[DEPS_KEY])

    return {"on_startup": startup, "on_shutdown": shutdown}


def run_worker(
    settings: Settings,
    *,
    burst: bool = False,
    health_port: int | None = None,
    health_host: str = "127.0.0.1",
) -> None:
    """Run both workers until SIGINT/SIGTERM, or with ``burst`` until their queues are empty;
    with ``health_port``, serve ``/healthz``, ``/readyz`` and ``/metrics`` on it
    (``worker_health``)."""
    asyncio.run(_run(settings, burst, health_port, health_host))


async def _run(
    settings: Settings, burst: bool, health_port: int | None = None, host: str = "127.0.0.1"
) -> None:
    async with sync_deps(settings) as deps:
        # built inside the running loop: arq's Worker binds the current loop when created
        shared = {"burst": burst, "handle_signals": False}
        workers = [
            ResilientWorker(
                **worker_settings(settings, crons=not burst, own_deps=False),
                ctx={DEPS_KEY: deps},
                **shared,
            ),
            ResilientWorker(
                **command_worker_settings(settings, own_deps=False), ctx={DEPS_KEY: deps}, **shared
            ),
        ]
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _stop, workers, signum)
        probes = None
        if health_port is not None:
            app = health_app(workers, deps.engine, settings)
            probes = asyncio.create_task(serve_health(app, health_port, host), name="worker-health")
        try:
            ended = await asyncio.gather(*(w.async_run() for w in workers), return_exceptions=True)
        finally:
            if probes is not None:
                probes.cancel()
                await asyncio.gather(probes, return_exceptions=True)
            for worker in workers:
                await worker.close()
        for outcome in ended:  # a signal cancels both (CancelledError); anything else is a bug
            if isinstance(outcome, Exception):
                raise outcome


def _stop(workers: list[ResilientWorker], signum: signal.Signals) -> None:
    for worker in workers:
        worker.handle_sig(signum)
