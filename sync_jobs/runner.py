"""The embedded-mode scheduler: sync jobs as asyncio tasks inside the gateway process.

Without Redis (``settings.embedded``) there is no arq worker, so the gateway's lifespan starts
an ``InProcessRunner``: one loop per scheduled source pulling it every
``sync.interval_seconds`` (fixed rate: a slow pull makes the next one start at once, missed
slots are not replayed), one loop per source reconciling it every
``sync.reconcile_interval_seconds`` (first after one interval), the daily refresh of the
stored figures (at start, then just after each 00:00 UTC), one taking the day's forecast
snapshot (hourly, the first a minute after start; a day's first run writes it), and a
consumer running the
jobs handed to it (``InProcessDispatcher``), at most ``MAX_JOBS`` at a time. Like arq's unique
job ids, a job already running with the same arguments is not started twice, so two pulls
of one source never overlap. Jobs use the same ``ctx`` and retry rules as under arq.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from arq import Retry

from sync_jobs.context import DEPS_KEY, SyncDeps
from sync_jobs.forecast_snapshots import SNAPSHOT_INTERVAL_SECONDS
from sync_jobs.jobs import JOBS, MAX_TRIES

log = logging.getLogger(__name__)

MAX_JOBS = 4  # enqueued jobs running at once in embedded mode
SNAPSHOT_FIRST_AFTER_SECONDS = 60.0  # the forecast snapshot: after start-up's first pulls


class UnknownJob(ValueError):
    """A job name that is not in ``sync_jobs.jobs.JOBS``."""


def check_job(name: str) -> None:
    """Refuse an unknown job name when it is enqueued, not later when a worker runs it."""
    if name not in JOBS:
        raise UnknownJob(f"unknown job {name!r}; known: {', '.join(JOBS)}")


@dataclass(frozen=True)
class _Queued:
    name: str
    args: tuple[Any, ...]
    job_id: str
    attempt: int = 1


class InProcessRunner:
    """Pulls each source on a schedule and runs enqueued jobs, in this process."""

    def __init__(
        self,
        deps: SyncDeps,
        sources: Sequence[str],
        *,
        interval: float,
        snapshot_after: float = SNAPSHOT_FIRST_AFTER_SECONDS,
    ) -> None:
        self._deps = deps
        self._sources = list(sources)
        self._interval = interval
        self._snapshot_after = snapshot_after  # the first forecast snapshot, seconds after start
        self._max_tries = deps.settings.sync.max_retries + 1
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._running: set[tuple[str, str]] = set()
        self._again: set[tuple[str, str]] = set()  # asked for again while running
        self._pending: dict[tuple[str, str], str] = {}  # submitted, not started: key → job id
        self._timers: set[asyncio.TimerHandle] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the schedule loops and the job consumer in the background."""
        self._task = asyncio.create_task(self._run(), name="clientgraph-sync-runner")

    async def stop(self) -> None:
        """Cancel every loop and running job, and forget pending retries."""
        for timer in self._timers:
            timer.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def submit(self, name: str, *args: Any) -> str:
        """Queue job ``name`` with ``args``; returns its id (that of the same job still waiting
        to start, if any: as with arq's job ids, a waiting job is not queued twice)."""
        check_job(name)
        key = (name, repr(args))
        if key in self._pending:
            return self._pending[key]
        job = _Queued(name, args, uuid.uuid4().hex)
        self._pending[key] = job.job_id
        self._queue.put_nowait(job)
        return job.job_id

    async def _run(self) -> None:
        sync = self._deps.settings.sync
        reconcile_every = sync.reconcile_interval_seconds
        first = sync.account_master if sync.account_master in self._sources else None
        if first is not None:
            # the client list first: other systems' clients then link at their first pull
            # instead of waiting (parked, with an exception) for the next one
            await self._execute(_Queued("pull_source", (first,), "first"))
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume())
            group.create_task(self._daily("refresh_figures"))
            snapshot = self._every(
                SNAPSHOT_INTERVAL_SECONDS, self._snapshot_after, "snapshot_forecast"
            )
            group.create_task(snapshot)
            for source in self._sources:
                delay = self._interval if source == first else 0.0  # pulled just now
                group.create_task(self._every(self._interval, delay, "pull_source", source))
                group.create_task(
                    self._every(reconcile_every, reconcile_every, "reconcile_source", source)
                )

    async def _every(self, interval: float, delay: float, name: str, *args: Any) -> None:
        """Run job ``name`` every ``interval`` seconds, the first after ``delay``."""
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due + interval, loop.time())
            await self._execute(_Queued(name, args, f"{name}:{due}"))

    async def _daily(self, name: str) -> None:
        """Run job ``name`` now, then just after each 00:00 UTC of the deps' clock."""
        while True:
            await self._execute(_Queued(name, (), f"{name}:{self._deps.clock().date()}"))
            now = self._deps.clock()
            midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0, 5), UTC)
            await asyncio.sleep(max(1.0, (midnight - now).total_seconds()))

    async def _consume(self) -> None:
        slots = asyncio.Semaphore(MAX_JOBS)
        async with asyncio.TaskGroup() as group:
            while True:
                job = await self._queue.get()
                await slots.acquire()
                task = group.create_task(self._execute(job))
                task.add_done_callback(lambda _t: slots.release())

    async def _execute(self, job: _Queued) -> None:
        """Run one job; a failure is logged, never fatal to the runner.

        The same job asked for while it runs is run once more afterwards, not dropped: a
        refresh started before an edit must not swallow the hint that came after it.
        """
        key = (job.name, repr(job.args))
        if self._pending.get(key) == job.job_id:
            del self._pending[key]
        if key in self._running:
            log.info("sync job %s%r already running: runs again after", job.name, job.args)
            self._again.add(key)
            return
        self._running.add(key)
        try:
            await JOBS[job.name]({DEPS_KEY: self._deps, "job_try": job.attempt}, *job.args)
        except Retry as retry:
            self._retry_later(job, (retry.defer_score or 0) / 1000)
        except Exception:
            log.exception("sync job %s%r failed", job.name, job.args)
        finally:
            self._running.discard(key)
            if key in self._again:
                self._again.discard(key)
                self._queue.put_nowait(_Queued(job.name, job.args, job.job_id))

    def _retry_later(self, job: _Queued, delay: float) -> None:
        if job.attempt >= MAX_TRIES.get(job.name, self._max_tries):
            log.error("sync job %s%r gave up after %d tries", job.name, job.args, job.attempt)
            return
        again = _Queued(job.name, job.args, job.job_id, job.attempt + 1)
        loop = asyncio.get_running_loop()
        self._timers = {t for t in self._timers if t.when() > loop.time()}  # drop fired ones
        self._timers.add(loop.call_later(delay, self._queue.put_nowait, again))
