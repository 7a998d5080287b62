"""Handing just-accepted commands to the queue off their requests' path, together.

A mutation's answer waits only for its command's row (durable once its statement commits);
``HandOffs.hand_off`` notes the command and returns. A background task of the gateway then
queues the commands noted since its last round (``ROUND`` at most; the rest in the next) —
their jobs in one Redis round trip (enqueue.py), one statement for all their DISPATCHED
marks (on the gateway's bare connections on PostgreSQL: readmodel/raw_reads.py) — so under
load a round costs two round trips, not two a command. Each job's
``command.relay`` span is a child of the span of the request that accepted it.

Nothing is lost if a round fails or the process ends first: the rows stay ACCEPTED and the
relay's sweep (this gateway's, another's, a worker's) queues them — ``relay.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime

from opentelemetry import context as otel
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.db import autocommit
from readmodel.raw_reads import RawReads
from readmodel.types import utcnow
from sync_jobs.dispatch import JobDispatcher, QueueUnavailable
from sync_jobs.runner import UnknownJob
from sync_jobs.tracing import span

log = logging.getLogger(__name__)

APPLY_COMMAND = "apply_command"
ROUND = 100
"""The most commands one round queues at once (so many Redis connections at most); the rest
wait for the next round, right after."""
DRAIN_SECONDS = 5.0
"""At shutdown, how long the last round may take before its commands are left to the sweep."""

Handed = tuple[int, otel.Context]


class HandOffs:
    """The gateway's commands waiting to be queued, and the task that queues them."""

    def __init__(
        self,
        engine: AsyncEngine,
        dispatcher: JobDispatcher,
        *,
        now: Callable[[], datetime] = utcnow,
        raw: RawReads | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self._now = now
        self._raw = raw
        self._waiting: list[Handed] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def hand_off(self, command_id: int) -> None:
        """Queue ``command_id`` soon (its row committed ACCEPTED); never raises."""
        self._waiting.append((command_id, otel.get_current()))
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._rounds(), name="clientgraph-command-hand-offs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._waiting:  # the last ones, briefly; else the sweep queues them
            with suppress(TimeoutError):
                await asyncio.wait_for(self._round(), DRAIN_SECONDS)

    async def _rounds(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._round()

    async def _round(self) -> None:
        handed, self._waiting = self._waiting[:ROUND], self._waiting[ROUND:]
        if self._waiting:  # more than a round's worth: another round right after this one
            self._wake.set()
        try:
            await queue_together(
                self.engine, self.dispatcher, handed, now=self._now, raw=self._raw
            )
        except Exception:  # a database blip: the rows stay ACCEPTED for the sweep
            log.exception("commands %s accepted but not marked DISPATCHED", [c for c, _ in handed])


async def queue_together(
    engine: AsyncEngine,
    dispatcher: JobDispatcher,
    handed: Sequence[Handed],
    *,
    now: Callable[[], datetime] = utcnow,
    raw: RawReads | None = None,
) -> list[int]:
    """Queue each handed command's job (concurrently), then mark those queued DISPATCHED in
    one guarded statement (on a bare connection of ``raw``'s, if given: readmodel/
    raw_reads.py); returns the ids queued. A command whose job could not be queued stays
    ACCEPTED, said once in the log."""
    queued = await asyncio.gather(*(queue_job(dispatcher, c, parent) for c, parent in handed))
    ids = [command_id for (command_id, _), ok in zip(handed, queued, strict=True) if ok]
    if ids:
        moment = now()
        if raw is not None:
            async with raw.connect() as bare:  # each statement its own transaction
                await command_log.mark_dispatched(bare, ids, now=moment)
        else:
            async with autocommit(engine) as conn:  # one guarded UPDATE: its own transaction
                await command_log.mark_dispatched(conn, ids, now=moment)
    return ids


async def queue_job(
    dispatcher: JobDispatcher, command_id: int, parent: otel.Context | None = None
) -> bool:
    """Queue the command's job under a ``command.relay`` span, a child of ``parent`` (the
    accepting request's; else the current span); ``False`` if the queue could not take it —
    the command stays ACCEPTED, said once in the log."""
    token = otel.attach(otel.get_current() if parent is None else parent)
    try:
        with span("command.relay", kind=SpanKind.PRODUCER, command=command_id) as current:
            current.set_attribute("messaging.system", "arq")
            await dispatcher.enqueue(APPLY_COMMAND, command_id)
    except (QueueUnavailable, UnknownJob) as error:
        log.warning("command %s stays ACCEPTED: %s", command_id, error)
        return False
    finally:
        otel.detach(token)
    return True
