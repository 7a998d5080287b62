"""The relay: hands ACCEPTED commands from the log to the job queue (the outbox's other half).

A command is marked DISPATCHED only after its job was queued, so a queue outage loses
nothing: the rows stay ACCEPTED and the next sweep queues them. Under arq the job id is
``command-<id>``, so two relays (two gateways, a gateway and a worker) racing on one command
queue it once; in embedded mode the in-process runner skips a job already running.

It also takes over commands whose worker died: a RUNNING row whose lease lapsed
(``lease.py``) has its arq lock released (``arq:in-progress:command-<id>``, which would
otherwise hold the job for the queue's longest timeout) and is queued again, so another
worker claims it within ``writes.lease_seconds`` plus one sweep.

Who calls it:

* the gateway, right after a mutation's statement commits (``CommandRelay.hand_off``: off the
  request's path, commands handed off together queued together, ``hand_off.py``), and every
  ``writes.relay_interval_seconds`` in the background (``CommandRelay.start``);
* an arq worker may run ``relay_commands(ctx)`` as a cron job (it uses the worker's own
  Redis pool, ``ctx["redis"]``, and ``ctx["deps"].engine``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from readmodel import command_log
from readmodel.command_log import CommandStatus
from readmodel.db import autocommit
from readmodel.raw_reads import RawReads
from readmodel.types import utcnow
from sync_jobs.commands.enqueue import Enqueue
from sync_jobs.commands.hand_off import APPLY_COMMAND, HandOffs, queue_job
from sync_jobs.context import deps_of
from sync_jobs.dispatch import (
    COMMAND_QUEUE_NAME,
    REDIS_CONNECT_TIMEOUT_SECONDS,
    REDIS_ENQUEUE_TIMEOUT_SECONDS,
    JobDispatcher,
    QueueUnavailable,
)
from sync_jobs.runner import UnknownJob

log = logging.getLogger(__name__)

RELAY_INTERVAL_SECONDS = 5.0  # default sweep interval (setting writes.relay_interval_seconds)
RELAY_BATCH = 100  # commands queued per sweep (the rest wait for the next one)
# A waiting command this far past its due time is queued again: a no-op while arq still
# holds its job, a rescue when Redis lost it (a restart without persistence, a flush).
LOST_AFTER = timedelta(seconds=15)


def job_id_of(command_id: int) -> str:
    """The arq job id of a command: one queued job per command, whoever queues it."""
    return f"command-{command_id}"


class ArqCommandDispatcher:
    """Queues ``apply_command(ctx, command_id)`` in arq with job id ``command-<id>``.

    ``JobDispatcher`` (``sync_jobs.dispatch``) has no job-id argument, so commands get this
    adapter with the same ``enqueue`` signature. It connects lazily, like ``ArqDispatcher``:
    the gateway accepts commands while Redis is down.
    """

    def __init__(self, redis: str | ArqRedis, *, queue_name: str = COMMAND_QUEUE_NAME) -> None:
        self._pool = redis if isinstance(redis, ArqRedis) else None
        self._owns_pool = self._pool is None
        self._settings = None if isinstance(redis, ArqRedis) else _redis_settings(redis)
        self._queue_name = queue_name
        self._connecting: asyncio.Future[ArqRedis] | None = None
        self._enqueue: Enqueue | None = None

    async def enqueue(self, function_name: str, *args: Any) -> str | None:
        """Queue the job; ``None`` when a job with its id is already queued (or its result kept)."""
        try:
            async with asyncio.timeout(REDIS_ENQUEUE_TIMEOUT_SECONDS):  # a hung Redis: fail
                enqueue = await self._enqueuer()
                job_id = job_id_of(args[0])
                queued = await enqueue(function_name, args, job_id=job_id)
        except (TimeoutError, RedisError, OSError) as error:
            raise QueueUnavailable("the job queue (Redis) is unavailable") from error
        return job_id if queued else None

    async def release(self, command_id: int) -> None:
        """Drop arq's lock on a command's job (its worker died): any worker may now run it."""
        try:
            async with asyncio.timeout(REDIS_ENQUEUE_TIMEOUT_SECONDS):
                pool = await self._connect()
                await pool.delete(in_progress_key_prefix + job_id_of(command_id))
        except (TimeoutError, RedisError, OSError) as error:
            raise QueueUnavailable("the job queue (Redis) is unavailable") from error

    async def close(self) -> None:
        if self._owns_pool and self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def _enqueuer(self) -> Enqueue:
        pool = await self._connect()
        if self._enqueue is None or self._enqueue.pool is not pool:
            self._enqueue = Enqueue(pool, self._queue_name)  # one round trip: enqueue.py
        return self._enqueue

    async def _connect(self) -> ArqRedis:
        """The pool, connected once: callers waiting for it all go on in one turn of the loop
        (their jobs then share a round trip: enqueue.py); a failed attempt is not kept."""
        if self._pool is not None:
            return self._pool
        if self._connecting is None:
            assert self._settings is not None
            pool = create_pool(self._settings, default_queue_name=self._queue_name)
            self._connecting = asyncio.ensure_future(pool)
        connecting = self._connecting
        try:
            self._pool = await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None
        return self._pool


def _redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = 0  # fail fast: the command is safe in the log either way
    settings.conn_timeout = REDIS_CONNECT_TIMEOUT_SECONDS
    return settings


@dataclass(frozen=True)
class RelayReport:
    dispatched: int  # commands queued and marked DISPATCHED by this call
    pending: bool  # the queue was unavailable: ACCEPTED commands were left for later


async def relay_accepted(
    engine: AsyncEngine,
    dispatcher: JobDispatcher,
    *,
    limit: int = RELAY_BATCH,
    now: Callable[[], datetime] = utcnow,
) -> RelayReport:
    """Queue up to ``limit`` due ACCEPTED commands, oldest first, and mark each DISPATCHED.

    Stops at the first queue failure (the queue is down for the others too) and leaves the
    rest ACCEPTED. Due means ``next_attempt_at`` unset or past (an executor may schedule a
    retry that way).
    """
    moment = now()
    async with engine.connect() as conn:
        ids = await command_log.due_for_dispatch(conn, moment, limit)
        lost = await command_log.lost_in_queue(conn, moment - LOST_AFTER, limit)
        lapsed = await command_log.lapsed_leases(conn, utcnow(), limit)
    dispatched = 0
    for command_id in ids:
        if not await relay_one(engine, dispatcher, command_id, now=now):
            return RelayReport(dispatched, pending=True)
        dispatched += 1
    try:
        for command_id in lapsed:  # RUNNING, its worker gone: free the job, queue it again
            log.warning("command %s: lease lapsed, handing it to another worker", command_id)
            await take_over(dispatcher, command_id)
        for command_id in lost:  # DISPATCHED / APPLIED: queue again, change nothing
            await dispatcher.enqueue(APPLY_COMMAND, command_id)
    except (QueueUnavailable, UnknownJob) as error:
        log.warning("waiting commands not queued again yet: %s", error)
        return RelayReport(dispatched, pending=True)
    return RelayReport(dispatched, pending=False)


async def take_over(dispatcher: JobDispatcher, command_id: int) -> None:
    """Queue a command whose lease lapsed, releasing a dead worker's arq lock first."""
    release = getattr(dispatcher, "release", None)
    if release is not None:
        await release(command_id)
    await dispatcher.enqueue(APPLY_COMMAND, command_id)


async def relay_one(
    engine: AsyncEngine,
    dispatcher: JobDispatcher,
    command_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
) -> bool:
    """Queue one command and mark it DISPATCHED; ``False`` if the queue was unavailable.

    The mark is a guarded ACCEPTED → DISPATCHED move: if the job already started (embedded
    mode runs it at once) or an operator cancelled meanwhile, the row is left as they set it.
    """
    if not await queue_job(dispatcher, command_id):
        return False
    moment = now()
    async with autocommit(engine) as conn:  # one guarded UPDATE: its own transaction
        await command_log.transition(
            conn,
            command_id,
            {CommandStatus.ACCEPTED},
            CommandStatus.DISPATCHED,
            now=moment,
            dispatched_at=moment,
        )
    return True


class CommandRelay:
    """The gateway's relay: queues each command once accepted, and sweeps in the background."""

    def __init__(
        self,
        engine: AsyncEngine,
        dispatcher: JobDispatcher,
        *,
        interval: float = RELAY_INTERVAL_SECONDS,
        raw: RawReads | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._hand_offs = HandOffs(engine, dispatcher, raw=raw)

    def hand_off(self, command_id: int) -> None:
        """Queue a just-accepted command soon, off the caller's path (``hand_off.py``)."""
        self._hand_offs.hand_off(command_id)

    async def sweep(self) -> RelayReport:
        return await relay_accepted(self.engine, self.dispatcher)

    def start(self) -> None:
        self._task = asyncio.create_task(self._every(), name="clientgraph-command-relay")
        self._hand_offs.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._hand_offs.stop()

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:  # a database blip must not end the loop
                log.exception("command relay sweep failed")


@asynccontextmanager
async def command_relay(
    settings: Settings, engine: AsyncEngine, jobs: JobDispatcher, raw: RawReads | None = None
) -> AsyncIterator[CommandRelay]:
    """The gateway's relay for its lifespan: arq with a Redis URL, else the app's dispatcher;
    its hand-offs mark commands on ``raw``'s bare connections, if given."""
    arq = None
    if settings.redis_url is not None:
        arq = ArqCommandDispatcher(settings.redis_url.get_secret_value())
    interval = settings.writes.relay_interval_seconds
    relay = CommandRelay(engine, arq or jobs, interval=interval, raw=raw)
    relay.start()
    try:
        yield relay
    finally:
        await relay.stop()
        if arq is not None:
            await arq.close()


async def relay_commands(ctx: dict[str, Any]) -> dict[str, Any]:
    """An arq job (cron) sweeping ACCEPTED commands with the worker's own Redis pool."""
    dispatcher = ArqCommandDispatcher(ctx["redis"])
    report = await relay_accepted(deps_of(ctx).engine, dispatcher)
    return {"dispatched": report.dispatched, "pending": report.pending}
