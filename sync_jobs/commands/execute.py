"""The arq job ``apply_command``: one accepted write, applied at the system that owns the data.

Each run is one *attempt* recorded on the ``command`` row (``attempts``, ``last_error_*``):

1. load the row; a final or cancelled command is left alone (a duplicate delivery, a job
   re-run after its worker died once the command had finished);
2. claim it (guarded transition to RUNNING, ``attempts`` + 1). A row already RUNNING is
   claimed too: arq runs one job per id at a time, so a RUNNING row at the start of a job
   means the worker of the previous attempt died mid-write;
3. apply it through the target system's connector (``CommandWriter``) with the command's
   external key, so a repeat of a write that landed but was never acknowledged finds the
   same record instead of making a second one;
4. read the record back from the source and apply it to the read model through the sync
   path (``apply_page``), in the transaction that marks the command SUCCEEDED: the read
   model shows the write exactly when the command says it is done.

Failures: a ``TransientSourceError`` puts the row back to DISPATCHED with ``next_attempt_at``
and raises ``arq.Retry`` (exponential back-off, ``backoff.py``), until ``max_attempts`` is
spent: then DEAD_LETTERED (replayable: ``retryCommand`` sets it back to ACCEPTED). A
``PermanentSourceError`` ends FAILED with the source's own code and message. A spent daily
quota (``QuotaExhausted``) rests the whole source and defers the command without spending
an attempt; while a source rests, its commands wait without calling it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from arq import Retry
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.command_log import FINAL_STATUSES, CommandStatus
from sync_jobs.commands.backoff import backoff_seconds
from sync_jobs.commands.writes import CommandWriter, UnsupportedCommand, WriteResult
from sync_jobs.connectors.registry import NotConfigured
from sync_jobs.context import SyncDeps, deps_of
from sync_jobs.errors import PermanentSourceError, QuotaExhausted, TransientSourceError
from sync_jobs.handoff.triggers import on_command_succeeded
from sync_jobs.pull import apply_page
from sync_jobs.rows import CanonicalRow
from sync_jobs.source_state import rest_source, resting_until

log = logging.getLogger(__name__)

# arq registration (``sync_jobs.worker``). The timeout is above one source call's (30 s by
# default), so a slow call ends as a TransientSourceError that this job records; a job that
# still runs out of time (several slow calls) leaves the row RUNNING, and arq's re-run or the
# relay's lost-job sweep re-claims it, the source's idempotency keeping the effect single.
APPLY_TIMEOUT_SECONDS = 120
# arq counts every run, Retry and crash re-runs alike; the row's ``max_attempts`` is the
# policy, so arq's own limit only has to stay out of its way.
APPLY_MAX_TRIES = 100
# A command's outcome lives in its row, so arq keeps no result: ``command-<id>`` can then be
# queued again at once (a replay after DEAD_LETTERED or FAILED). arq refuses a job id whose
# result it still keeps, and would silently drop the replay.
APPLY_KEEP_RESULT_SECONDS = 0
# RUNNING is claimable because only one job per command runs at a time: arq runs one job per
# id and holds a dead worker's job until its lease lapses; embedded, there is one gateway
# process (`clientgraph serve` refuses --workers > 1 without Redis) whose runner never runs
# the same job twice at once. So a RUNNING row at job start means its last runner died.
CLAIMABLE = {CommandStatus.ACCEPTED, CommandStatus.DISPATCHED, CommandStatus.RUNNING}
RUNNING = {CommandStatus.RUNNING}
MESSAGE_LIMIT = 1000  # the width of ``command.last_error_message``

Report = dict[str, Any]


class UnexpectedFailure(TransientSourceError):
    """A failure of ours during an attempt (a bug, a record we cannot map, a database blip).

    Retried like a transient error, so it ends DEAD_LETTERED, visible and replayable once
    fixed, instead of leaving the row RUNNING with nobody to finish it.
    """

    code = "INTERNAL_ERROR"


def external_key(command_id: int) -> str:
    """The external id / idempotency key the source sees for this command."""
    return f"clientgraph-command-{command_id}"


async def apply_command(ctx: dict[str, Any], command_id: int) -> Report:
    """Apply command ``command_id`` once (one attempt); see the module docstring.

    Returns a small report (for logs). Raises ``arq.Retry`` when a transient failure leaves
    attempts to spare.
    """
    deps = deps_of(ctx)
    command = await load_command(deps.engine, command_id)
    if command is None or command.status in FINAL_STATUSES:
        status = "MISSING" if command is None else command.status
        return {"command": command_id, "status": status, "skipped": True}
    if (rest := await _resting(deps, command.target_system)) is not None:
        return await _defer(deps, command_id, CLAIMABLE, rest, {})  # no attempt spent
    attempt = command.attempts + 1
    if not await _claim(deps, command_id, attempt):
        return {"command": command_id, "status": "CLAIMED_ELSEWHERE", "skipped": True}
    try:
        written, rows = await _write(deps, command)
        report = await _succeed(deps, command_id, written, rows)
    except TransientSourceError as error:
        return await _transient(deps, command, attempt, error)
    except (PermanentSourceError, NotConfigured) as error:
        log.warning("command %s failed: %s", command_id, error)
        return await _end(deps, command_id, CommandStatus.FAILED, error, retryable=False)
    except Exception as error:  # ours, not the source's: retry, then dead-letter visibly
        log.exception("command %s attempt %d broke", command_id, attempt)
        # the detail (SQL, URLs) is in the log above; clients see only that it was ours
        failure = UnexpectedFailure(f"internal error ({type(error).__name__}); see the worker log")
        return await _transient(deps, command, attempt, failure)
    await on_command_succeeded(ctx, command)  # a won deal or a handoff step moves its handoff
    return report


async def load_command(engine: AsyncEngine, command_id: int) -> Row[Any] | None:
    """The command row, or ``None``."""
    async with engine.connect() as conn:
        return await command_log.get(conn, command_id)


async def _claim(deps: SyncDeps, command_id: int, attempt: int) -> bool:
    async with deps.engine.begin() as conn:
        return await command_log.transition(
            conn,
            command_id,
            CLAIMABLE,
            CommandStatus.RUNNING,
            now=deps.clock(),
            attempts=attempt,
            next_attempt_at=None,
        )


async def _write(deps: SyncDeps, command: Row[Any]) -> tuple[WriteResult, list[CanonicalRow]]:
    """Apply the command at its source and read what it wrote back."""
    connector = deps.source(command.target_system)
    if not isinstance(connector, CommandWriter):
        raise UnsupportedCommand(command.target_system, command.kind)
    payload = _payload(command.payload)
    written = await connector.apply_command(command.kind, payload, external_key(command.id))
    rows = [row for kind, i in written.parents for row in await connector.fetch(kind, [i])]
    rows += await connector.fetch(written.object_type, written.source_ids)
    return written, rows


async def _succeed(
    deps: SyncDeps, command_id: int, written: WriteResult, rows: Sequence[CanonicalRow]
) -> Report:
    """The source's record into the read model, and SUCCEEDED, in one transaction."""
    now = deps.clock()
    master = deps.settings.sync.account_master
    async with deps.engine.begin() as conn:
        applied = await apply_page(conn, rows, written.object_type, now, account_master=master)
        done = await command_log.transition(
            conn,
            command_id,
            RUNNING,
            CommandStatus.SUCCEEDED,
            now=now,
            target_source_id=written.source_id,
        )
    if not done:  # changed under us (an operator cancelled it mid-write): the source has it
        log.warning("command %s succeeded at the source but its row had moved on", command_id)
    report: Report = {"command": command_id, "status": "SUCCEEDED", "applied": applied.applied}
    return {**report, "target": written.source_id}


async def _transient(
    deps: SyncDeps, command: Row[Any], attempt: int, error: TransientSourceError
) -> Report:
    """Back to DISPATCHED and retry later, or DEAD_LETTERED when no attempt is left.

    A spent daily quota is the source's state, not this command's failure: the source rests
    (as a pull would rest it, ``sync.quota_pause_seconds`` at least) and the attempt is given
    back, so a quota never dead-letters a command.
    """
    fields = _error_fields(error, retryable=True)
    if isinstance(error, QuotaExhausted):
        until = await _pause(deps, command.target_system, error)
        return await _defer(deps, command.id, RUNNING, until, {**fields, "attempts": attempt - 1})
    if attempt >= command.max_attempts:
        log.error("command %s dead-lettered after %d attempts: %s", command.id, attempt, error)
        return await _end(deps, command.id, CommandStatus.DEAD_LETTERED, error, retryable=True)
    delay = backoff_seconds(attempt, error.retry_after)
    log.info("command %s attempt %d: %s; again in %.1fs", command.id, attempt, error, delay)
    return await _defer(deps, command.id, RUNNING, timedelta(seconds=delay), fields)


async def _defer(
    deps: SyncDeps,
    command_id: int,
    from_statuses: set[CommandStatus],
    delay: timedelta,
    fields: dict[str, Any],
) -> Report:
    """DISPATCHED until ``now + delay`` (``next_attempt_at``), then ``arq.Retry``."""
    now = deps.clock()
    async with deps.engine.begin() as conn:
        waiting = await command_log.transition(
            conn,
            command_id,
            from_statuses,
            CommandStatus.DISPATCHED,
            now=now,
            next_attempt_at=now + delay,
            **fields,
        )
    if not waiting:  # cancelled or finished meanwhile: nothing left to retry
        return {"command": command_id, "status": "MOVED_ON", "skipped": True}
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
    deps: SyncDeps, command_id: int, status: CommandStatus, error: Exception, *, retryable: bool
) -> Report:
    """A final status with the error that caused it (``transition`` stamps ``completed_at``)."""
    fields = _error_fields(error, retryable=retryable)
    async with deps.engine.begin() as conn:
        await command_log.transition(conn, command_id, RUNNING, status, now=deps.clock(), **fields)
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
