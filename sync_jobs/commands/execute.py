"""The arq job ``apply_command``: one accepted write, applied at the system that owns the data.

Each run is one *attempt* recorded on the ``command`` row (``attempts``, ``last_error_*``):

1. load the row; a final or cancelled command is left alone (a duplicate delivery, a job
   re-run after its worker died once the command had finished);
2. claim it under a lease (``lease.py``): a guarded move to RUNNING with a fresh token,
   renewed while the attempt works. A RUNNING row is claimed only once its lease lapsed (its
   worker died); every later change of this attempt is guarded by the token;
3. apply it through the target system's connector (``CommandWriter``) with the command's
   source key (``command_log.source_key``), so a repeat of a write that landed but was never
   acknowledged finds the same record instead of making a second one. As soon as the source
   answers, the row records it (``applied_at``, ``target_source_id``, ``written``);
4. read the record back from the source and apply it to the read model through the sync
   path (``apply_page``), in the transaction that marks the command SUCCEEDED: the read
   model shows the write exactly when the command says it is done.

Failures before the source confirmed the write: a ``TransientSourceError`` puts the row back
to DISPATCHED with ``next_attempt_at`` and raises ``arq.Retry`` (exponential back-off,
``backoff.py``), until ``max_attempts`` is spent: then DEAD_LETTERED (replayable:
``retryCommand`` sets it back to ACCEPTED). A ``PermanentSourceError`` ends FAILED with the
source's own code and message. A spent daily quota (``QuotaExhausted``) rests the whole
source and defers the command without spending an attempt; while a source rests, its
commands wait without calling it.

Failures after it: the write landed, so nothing is written again and no attempt is spent.
The row waits as APPLIED and the read-back alone is retried (every 1–60 s, growing with the
time since the write) until the read model holds the record.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from arq import Retry
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.command_log import CLAIMABLE, FINAL_STATUSES, CommandStatus, source_key
from readmodel.types import utcnow
from sync_jobs.commands.attempt_metrics import counted_attempt
from sync_jobs.commands.backoff import backoff_seconds
from sync_jobs.commands.lease import Lease
from sync_jobs.commands.writes import CommandWriter, UnsupportedCommand, WriteResult
from sync_jobs.connectors.registry import NotConfigured
from sync_jobs.context import SyncDeps, deps_of
from sync_jobs.errors import PermanentSourceError, QuotaExhausted, TransientSourceError
from sync_jobs.handoff.triggers import on_command_succeeded
from sync_jobs.pull import apply_page
from sync_jobs.rows import CanonicalRow
from sync_jobs.source_state import rest_source, resting_until
from sync_jobs.tracing import command_job, span

log = logging.getLogger(__name__)

# arq registration (``sync_jobs.worker``, the commands' own queue). Sized to a few source
# calls (a write, a check before create, a read-back; 30 s each by default), not to the sync
# jobs' long timeouts: arq locks a running job for its queue's longest timeout + 10 s. A job
# that runs out of time is cancelled, gives its lease back and runs again at once.
APPLY_TIMEOUT_SECONDS = 90
# arq counts every run, Retry and crash re-runs alike; the row's ``max_attempts`` is the
# policy, so arq's own limit only has to stay out of its way.
APPLY_MAX_TRIES = 1000
# A command's outcome lives in its row, so arq keeps no result: ``command-<id>`` can then be
# queued again at once (a replay after DEAD_LETTERED or FAILED). arq refuses a job id whose
# result it still keeps, and would silently drop the replay.
APPLY_KEEP_RESULT_SECONDS = 0
RUNNING = {CommandStatus.RUNNING}
MESSAGE_LIMIT = 1000  # the width of ``command.last_error_message``
READ_BACK_MIN_SECONDS = 1.0  # the first wait before a failed read-back is tried again
READ_BACK_MAX_SECONDS = 60.0  # the longest
NO_ERROR = {"last_error_code": None, "last_error_message": None, "last_error_retryable": None}
NO_LEASE = {"lease_token": None, "lease_expires_at": None}

Report = dict[str, Any]


class _MovedOn(Exception):
    """The row left this attempt's hands before it could record success."""


class UnexpectedFailure(TransientSourceError):
    """A failure of ours during an attempt (a bug, a record we cannot map, a database blip).

    Retried like a transient error, so it ends DEAD_LETTERED, visible and replayable once
    fixed, instead of leaving the row RUNNING with nobody to finish it.
    """

    code = "INTERNAL_ERROR"


async def apply_command(ctx: dict[str, Any], command_id: int) -> Report:
    """Apply command ``command_id`` once (one attempt); see the module docstring.

    Returns a small report (for logs). Raises ``arq.Retry`` when a transient failure leaves
    attempts to spare.
    """
    deps = deps_of(ctx)
    command = await load_command(deps.engine, command_id)
    with command_job(ctx, command_id, command) as job:
        log.info("command %s: run %s", command_id, ctx.get("job_try") or 1)
        report = await _apply(ctx, deps, command_id, command)
        job.set_attribute("clientgraph.outcome", str(report.get("status")))
        log.info("command %s: %s", command_id, report.get("status"))
        return report


async def _apply(
    ctx: dict[str, Any], deps: SyncDeps, command_id: int, command: Row[Any] | None
) -> Report:
    if command is None or command.status in FINAL_STATUSES:
        status = "MISSING" if command is None else command.status
        return {"command": command_id, "status": status, "skipped": True}
    if (rest := await _resting(deps, command.target_system)) is not None:
        return await _wait_unclaimed(deps, command, rest)  # no attempt spent
    applied = command.applied_at is not None  # an earlier attempt's write landed
    attempt = command.attempts if applied else command.attempts + 1
    lease = Lease(deps.engine, command_id, deps.settings.writes.lease_seconds)
    if not await _claim(deps, command, lease, attempt):
        return {"command": command_id, "status": "CLAIMED_ELSEWHERE", "skipped": True}
    async with lease.kept(), counted_attempt(command.kind, attempt) as counted:
        with span("command.attempt", attempt=attempt, target_system=command.target_system):
            report = counted(await _attempt(deps, command, lease, attempt))
    if report.get("status") == CommandStatus.SUCCEEDED:
        await on_command_succeeded(ctx, command)  # a won deal or a handoff step moves on
    return report


async def _attempt(deps: SyncDeps, command: Row[Any], lease: Lease, attempt: int) -> Report:
    """Write (unless an earlier attempt's write landed), then read back; record the outcome."""
    written = _written(command)
    try:
        if written is None:
            written = await _write(deps, command)
            await _record_applied(deps, command.id, lease, written)
        rows = await _read_back(deps, command, written)
        return await _succeed(deps, command.id, lease, written, rows)
    except Exception as error:
        if written is not None:  # the source has it: only the read-back is retried
            return await _read_back_later(deps, command, lease, error)
        return await _failed_write(deps, command, lease, attempt, error)


async def _failed_write(
    deps: SyncDeps, command: Row[Any], lease: Lease, attempt: int, error: Exception
) -> Report:
    if isinstance(error, TransientSourceError):
        return await _transient(deps, command, lease, attempt, error)
    if isinstance(error, PermanentSourceError | NotConfigured):
        log.warning("command %s failed: %s", command.id, error)
        return await _end(deps, command.id, lease, CommandStatus.FAILED, error, retryable=False)
    # ours, not the source's: retry, then dead-letter visibly
    log.error("command %s attempt %d broke", command.id, attempt, exc_info=error)
    # the detail (SQL, URLs) is in the log above; clients see only that it was ours
    failure = UnexpectedFailure(f"internal error ({type(error).__name__}); see the worker log")
    return await _transient(deps, command, lease, attempt, failure)


async def load_command(engine: AsyncEngine, command_id: int) -> Row[Any] | None:
    """The command row, or ``None``."""
    async with engine.connect() as conn:
        return await command_log.get(conn, command_id)


async def _claim(deps: SyncDeps, command: Row[Any], lease: Lease, attempt: int) -> bool:
    now = utcnow()
    async with deps.engine.begin() as conn:
        return await command_log.claim(
            conn,
            command,
            token=lease.token,
            now=now,
            lease_until=lease.until(now),
            attempts=attempt,
        )


async def _write(deps: SyncDeps, command: Row[Any]) -> WriteResult:
    """Apply the command at its source; what the source says it wrote."""
    connector = deps.source(command.target_system)
    if not isinstance(connector, CommandWriter):
        raise UnsupportedCommand(command.target_system, command.kind)
    payload = _payload(command.payload)
    with span("command.write", command_kind=command.kind, target_system=command.target_system):
        return await connector.apply_command(command.kind, payload, source_key(command))


async def _read_back(deps: SyncDeps, command: Row[Any], written: WriteResult) -> list[CanonicalRow]:
    """The written records as the source now holds them, parents (a new engagement) first."""
    connector = deps.source(command.target_system)
    with span("command.read_back", object_type=written.object_type) as current:
        rows = [row for kind, i in written.parents for row in await connector.fetch(kind, [i])]
        rows += await connector.fetch(written.object_type, written.source_ids)
        current.set_attribute("clientgraph.records", len(rows))
    return rows


async def _record_applied(
    deps: SyncDeps, command_id: int, lease: Lease, written: WriteResult
) -> None:
    """The source confirmed the write: keep what it wrote before anything else can fail."""
    record = {
        "object_type": written.object_type,
        "source_ids": written.source_ids,
        "parents": [list(parent) for parent in written.parents],
    }
    now = deps.clock()
    async with deps.engine.begin() as conn:
        await command_log.transition(
            conn,
            command_id,
            RUNNING,
            CommandStatus.RUNNING,
            now=now,
            holder=lease.token,
            applied_at=now,
            target_source_id=written.source_id,
            written=json.dumps(record),
        )


def _written(command: Row[Any]) -> WriteResult | None:
    """What an earlier attempt wrote at the source, if its write landed."""
    if command.applied_at is None or not command.written:
        return None
    record = json.loads(command.written)
    first, *others = record["source_ids"]
    parents = tuple((kind, source_id) for kind, source_id in record.get("parents", []))
    return WriteResult(record["object_type"], first, tuple(others), parents)


async def _succeed(
    deps: SyncDeps,
    command_id: int,
    lease: Lease,
    written: WriteResult,
    rows: Sequence[CanonicalRow],
) -> Report:
    """The source's record into the read model, and SUCCEEDED, in one transaction.

    The move is guarded by the lease: if another worker took the command over meanwhile,
    this transaction applies nothing (it rolls back) and that worker finishes it.
    """
    now = deps.clock()
    master = deps.settings.sync.account_master
    try:
        async with deps.engine.begin() as conn:
            done = await command_log.transition(
                conn,
                command_id,
                RUNNING,
                CommandStatus.SUCCEEDED,
                now=now,
                holder=lease.token,
                **NO_ERROR,
                **NO_LEASE,
            )
            if not done:  # taken over, or an operator moved it: roll back, change nothing
                raise _MovedOn
            with span("readmodel.apply", object_type=written.object_type, records=len(rows)):
                applied = await apply_page(
                    conn, rows, written.object_type, now, account_master=master
                )
    except _MovedOn:
        log.warning("command %s: written, but its row had moved on", command_id)
        return {"command": command_id, "status": "MOVED_ON", "target": written.source_id}
    report: Report = {"command": command_id, "status": CommandStatus.SUCCEEDED}
    return {**report, "applied": applied.applied, "target": written.source_id}


async def _read_back_later(
    deps: SyncDeps, command: Row[Any], lease: Lease, error: Exception
) -> Report:
    """APPLIED: the write landed; try the read-back again later, spending no attempt."""
    if not isinstance(error, TransientSourceError | PermanentSourceError):
        log.error("command %s read-back broke", command.id, exc_info=error)
        error = UnexpectedFailure(f"internal error ({type(error).__name__}); see the worker log")
    now = deps.clock()
    applied_at = command.applied_at or now
    delay = _read_back_delay(now - applied_at)
    if isinstance(error, TransientSourceError) and error.retry_after:
        delay = max(delay, timedelta(seconds=error.retry_after))
    log.info("command %s applied; read-back failed (%s), again in %s", command.id, error, delay)
    fields = {**_error_fields(error, retryable=True), **NO_LEASE}
    return await _defer(deps, command.id, lease, delay, fields, waiting=CommandStatus.APPLIED)


def _read_back_delay(since_write: timedelta) -> timedelta:
    """Half the time since the write (1 s to 60 s), with jitter: quick at first, then calm."""
    base = min(READ_BACK_MAX_SECONDS, max(READ_BACK_MIN_SECONDS, since_write.total_seconds() / 2))
    return timedelta(seconds=base * (0.75 + random.random() / 2))


async def _transient(
    deps: SyncDeps, command: Row[Any], lease: Lease, attempt: int, error: TransientSourceError
) -> Report:
    """Back to DISPATCHED and retry later, or DEAD_LETTERED when no attempt is left.

    A spent daily quota is the source's state, not this command's failure: the source rests
    (as a pull would rest it, ``sync.quota_pause_seconds`` at least) and the attempt is given
    back, so a quota never dead-letters a command.
    """
    fields = {**_error_fields(error, retryable=True), **NO_LEASE}
    if isinstance(error, QuotaExhausted):
        until = await _pause(deps, command.target_system, error)
        fields["attempts"] = attempt - 1
        return await _defer(deps, command.id, lease, until, fields)
    if attempt >= command.max_attempts:
        log.error("command %s dead-lettered after %d attempts: %s", command.id, attempt, error)
        return await _end(
            deps, command.id, lease, CommandStatus.DEAD_LETTERED, error, retryable=True
        )
    delay = backoff_seconds(attempt, error.retry_after)
    log.info("command %s attempt %d: %s; again in %.1fs", command.id, attempt, error, delay)
    return await _defer(deps, command.id, lease, timedelta(seconds=delay), fields)


async def _defer(
    deps: SyncDeps,
    command_id: int,
    lease: Lease,
    delay: timedelta,
    fields: dict[str, Any],
    *,
    waiting: CommandStatus = CommandStatus.DISPATCHED,
) -> Report:
    """``waiting`` (DISPATCHED, or APPLIED for a read-back) until ``now + delay``
    (``next_attempt_at``), then ``arq.Retry``."""
    now = deps.clock()
    async with deps.engine.begin() as conn:
        moved = await command_log.transition(
            conn,
            command_id,
            RUNNING,
            waiting,
            now=now,
            holder=lease.token,
            next_attempt_at=now + delay,
            **fields,
        )
    if not moved:  # cancelled, finished or taken over meanwhile: nothing left to retry
        return {"command": command_id, "status": "MOVED_ON", "skipped": True}
    raise Retry(defer=delay)


async def _wait_unclaimed(deps: SyncDeps, command: Row[Any], delay: timedelta) -> Report:
    """While the source rests: a waiting command waits longer (a RUNNING one is left alone)."""
    if command.status not in CLAIMABLE:
        return {"command": command.id, "status": command.status, "skipped": True}
    waiting_status = command.status
    if waiting_status == CommandStatus.ACCEPTED:
        waiting_status = CommandStatus.DISPATCHED  # the queue has it: this job
    now = deps.clock()
    async with deps.engine.begin() as conn:
        waiting = await command_log.transition(
            conn, command.id, {command.status}, waiting_status, now=now, next_attempt_at=now + delay
        )
    if not waiting:
        return {"command": command.id, "status": "MOVED_ON", "skipped": True}
    raise Retry(defer=delay)


async def _resting(deps: SyncDeps, system: str) -> timedelta | None:
    """How long the source still rests after a spent quota (``None``: it does not)."""
    now = deps.clock()
    until = await resting_until(deps.engine, system, now)
    return None if until is None else until - now


async def _pause(deps: SyncDeps, system: str, error: QuotaExhausted) -> timedelta:
    """Rest the whole source, as the sync jobs do, so pulls and commands both wait."""
    now, pause = deps.clock(), deps.settings.sync.quota_pause_seconds
    objects = deps.source(system).objects
    until = await rest_source(deps.engine, system, objects, error, pause_seconds=pause, now=now)
    rest = until - now
    log.warning("command write to %s hit the daily quota: resting %s", system, rest)
    return rest


async def _end(
    deps: SyncDeps,
    command_id: int,
    lease: Lease,
    status: CommandStatus,
    error: Exception,
    *,
    retryable: bool,
) -> Report:
    """A final status with the error that caused it (``transition`` stamps ``completed_at``)."""
    fields = {**_error_fields(error, retryable=retryable), **NO_LEASE}
    async with deps.engine.begin() as conn:
        ended = await command_log.transition(
            conn, command_id, RUNNING, status, now=deps.clock(), holder=lease.token, **fields
        )
    if not ended:  # taken over or cancelled meanwhile: not this attempt's to end (or count)
        return {"command": command_id, "status": "MOVED_ON", "skipped": True}
    return {"command": command_id, "status": str(status), "error": fields["last_error_code"]}


def _payload(text: str) -> dict[str, Any]:
    payload = json.loads(text)
    if not isinstance(payload, dict):
        raise PermanentSourceError("INVALID_PAYLOAD", "the payload is not a JSON object")
    return payload


def _error_fields(error: Exception, *, retryable: bool) -> dict[str, Any]:
    """``last_error_*``: the source's own code and message when it gave them."""
    code = getattr(error, "code", None) or _snake(type(error).__name__)
    message = getattr(error, "message", None) or str(error)
    return {
        "last_error_code": str(code)[:64],
        "last_error_message": str(message)[:MESSAGE_LIMIT],
        "last_error_retryable": retryable,
    }


def _snake(name: str) -> str:
    """``TransientSourceError`` → ``TRANSIENT_SOURCE_ERROR``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()
