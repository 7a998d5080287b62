"""How the gateway hands work to sync jobs: to arq (Redis) or to the in-process runner.

``request.app.state.jobs`` is a ``JobDispatcher``; callers (webhooks, later commands) do not
care which one. ``job_dispatcher(settings, engine)`` builds the right one for the gateway's
lifespan: with ``CLIENTGRAPH_REDIS_URL`` an ``ArqDispatcher``; embedded, an
``InProcessDispatcher`` backed by a running ``InProcessRunner`` when a source is configured.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from sync_jobs.context import scheduled_sources, sync_deps
from sync_jobs.runner import InProcessRunner, check_job

log = logging.getLogger(__name__)

QUEUE_NAME = "clientgraph:queue"  # the arq queue of sync jobs (pulls, refreshes, handoffs)
COMMAND_QUEUE_NAME = "clientgraph:commands"  # the commands' own queue, short job timeouts
REDIS_CONNECT_TIMEOUT_SECONDS = 1  # a request waiting on a dead Redis fails fast
REDIS_ENQUEUE_TIMEOUT_SECONDS = 2.0
"""How long queueing one job may take: a Redis that takes the connection and never answers
(a hung server, a half-open link) fails the enqueue instead of holding its caller for ever."""


class QueueUnavailable(Exception):
    """The job could not be queued (Redis down, or nothing runs jobs); the caller decides."""


class JobDispatcher(Protocol):
    async def enqueue(self, function_name: str, *args: Any) -> str | None:
        """Queue job ``function_name(ctx, *args)``; its id, or ``None`` if already queued."""
        ...


class ArqDispatcher:
    """Queues jobs in Redis for ``clientgraph worker``; connects on first use, not at start-up.

    Connecting lazily lets the gateway serve reads while Redis is down; each enqueue then
    fails with ``QueueUnavailable`` until Redis is back (redis-py reconnects by itself).
    """

    def __init__(self, redis_url: str, *, queue_name: str = QUEUE_NAME) -> None:
        self._redis = RedisSettings.from_dsn(redis_url)
        self._redis.conn_retries = 0
        self._redis.conn_timeout = REDIS_CONNECT_TIMEOUT_SECONDS
        self._queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    async def enqueue(self, function_name: str, *args: Any) -> str | None:
        check_job(function_name)
        try:
            async with asyncio.timeout(REDIS_ENQUEUE_TIMEOUT_SECONDS):
                pool = await self._connect()
                job = await pool.enqueue_job(function_name, *args, _queue_name=self._queue_name)
        except (TimeoutError, RedisError, OSError) as error:
            # the URL is not logged: it may carry a password
            log.warning("job %s not queued: Redis unavailable (%r)", function_name, error)
            raise QueueUnavailable("the job queue (Redis) is unavailable") from error
        return None if job is None else job.job_id

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def _connect(self) -> ArqRedis:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self._redis, default_queue_name=self._queue_name)
            return self._pool


class InProcessDispatcher:
    """Hands jobs to this process's runner (embedded mode)."""

    def __init__(self, runner: InProcessRunner | None) -> None:
        self._runner = runner

    async def enqueue(self, function_name: str, *args: Any) -> str | None:
        check_job(function_name)
        if self._runner is None:
            raise QueueUnavailable("no source is configured, so nothing runs sync jobs")
        return await self._runner.submit(function_name, *args)


@asynccontextmanager
async def job_dispatcher(settings: Settings, engine: AsyncEngine) -> AsyncIterator[JobDispatcher]:
    """The dispatcher for the gateway's lifespan; embedded, also runs the sync schedule."""
    if settings.redis_url is not None:
        arq = ArqDispatcher(settings.redis_url.get_secret_value())
        try:
            yield arq
        finally:
            await arq.close()
        return
    sources = scheduled_sources(settings)
    if not sources:
        yield InProcessDispatcher(None)
        return
    async with sync_deps(settings, engine=engine) as deps:
        runner = InProcessRunner(deps, sources, interval=settings.sync.interval_seconds)
        await runner.start()
        try:
            yield InProcessDispatcher(runner)
        finally:
            await runner.stop()
