"""The flow every mutation shares: checks, one logged row with its audit entry, hand-off.

1. The mutation's ``build`` checks its input (ids, dates, amounts) and declares the records it
   names and what must hold of them (``Checker.target`` / ``expect``: resolvers/commands/
   targets.py). Its ``Write`` may carry those records' values (their source ids, currency).
2. ``command_intake.accept`` checks the records, logs the row, the call's audit entry and the
   ``sync_state`` rows of the answer's freshness in one statement, one round trip (PostgreSQL:
   readmodel/command_targets.py; on one of the gateway's bare connections, readmodel/
   raw_reads.py, when it has them). When the records fail the checks nothing is written, and
   the same checks run on the rows the statement read to say why. SQLite (and
   ``writes.checks_in_statement=false``): the records are read, checked, then the command
   logged in one transaction. A ``CommandRefused`` leaves the log untouched.
3. A replay (same key, same input) gets its command back: the INSERT finds the key taken and
   reads the winner — or, when the checks now refuse it (the first call changed the record),
   the refusal looks the key up before it stands. A new command costs no replay check.
4. Only after that commit is the command handed to the relay (``app.state.command_relay``),
   which queues it off the request's path: the answer never waits for the queue, and a
   failed hand-off never fails the mutation (the row stays ACCEPTED for the sweep).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from clientgraph.telemetry import context as telemetry
from readmodel import command_intake, command_log
from readmodel.command_intake import Audited, TargetsRefused
from readmodel.command_log import Accepted, IdempotencyKeyReused, NewCommand
from readmodel.command_targets import Guard
from readmodel.db import autocommit
from readmodel.raw_reads import RawReads
from resolvers.commands import targets
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.ownership import writes_of
from resolvers.commands.validation import Checker
from resolvers.context import Context
from resolvers.planner import sync_states
from resolvers.planner.dialect import Dialect

log = logging.getLogger(__name__)

CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Write:
    """What a mutation resolved: the owning system, the record, the validated payload."""

    target_system: str
    target_object: str
    target_source_id: Any
    """The record's id in the owning system: a string, a target's ``Col``, or ``None``."""
    payload: dict[str, Any] = field(default_factory=dict)


Build = Callable[[Checker], Write]
"""A mutation's checks: of its input, run at once; of the records it names, declared on the
``Checker`` (resolvers/commands/targets.py). Its ``Write`` may hold those records' values."""


@dataclass
class PendingAudit:
    """The audit entry of the mutation call being run (``resolvers.audit.Audit``): a new
    command is logged with it, in the same statement; ``written`` then says so."""

    entry: Audited
    written: bool = False


PENDING_AUDIT: ContextVar[PendingAudit | None] = ContextVar("cg_pending_audit", default=None)
"""Set by ``Audit.calling()`` around one mutation field (mutations run one after another)."""


async def accept_command(
    ctx: Context, kind: str, key: str, arguments: Mapping[str, Any], build: Build
) -> Row[Any]:
    """Log command ``kind`` under ``key`` (or return its replay); raise ``CommandRefused``."""
    checker = Checker()
    checker.idempotency_key(key)
    checker.refuse_if_any()
    digest = command_log.input_hash(kind, arguments)
    raw = getattr(ctx, "raw_writes", None)
    check = Checker()
    try:
        write = build(check)  # the input's own checks; the targets' are declared
        if _in_statement(ctx) and not targets.decided(check):
            accepted = await _guarded(ctx, raw, check, _new(ctx, kind, key, digest, write))
        else:
            settled = targets.settle(check, write, await _rows(ctx, raw, check))
            accepted = await _log(ctx, raw, _new(ctx, kind, key, digest, settled))
    except CommandRefused:
        existing = await _logged(ctx, key)  # a replay this refusal must not turn away
        if existing is None:
            raise
        return replay(existing, digest)
    except IdempotencyKeyReused as error:
        return replay(error.existing, digest)
    pending = PENDING_AUDIT.get()
    if pending is not None and accepted.audited:
        pending.written = True
    _keep_freshness(ctx, accepted.read_along)
    if accepted.created:
        log.info("command %s accepted: %s on %s", accepted.row.id, kind, write.target_system)
        hand_off(ctx, accepted.row.id)
    return accepted.row


def _in_statement(ctx: Context) -> bool:
    """Whether the targets' checks run in the command's statement (PostgreSQL, unless the
    settings say no: ``writes.checks_in_statement``)."""
    return ctx.engine.dialect.name == "postgresql" and writes_of(ctx).checks_in_statement


def _new(ctx: Context, kind: str, key: str, digest: str, write: Write) -> NewCommand:
    return NewCommand(
        kind=kind,
        target_system=write.target_system,
        target_object=write.target_object,
        target_source_id=write.target_source_id,
        idempotency_key=key,
        input_hash=digest,
        payload=write.payload,
        correlation_id=correlation_id(ctx),
        trace_context=telemetry.traceparent(),  # the worker continues this request's trace
        **asked_by(ctx),
    )


async def _guarded(ctx: Context, raw: RawReads | None, check: Checker, new: NewCommand) -> Accepted:
    """One round trip (PostgreSQL): the targets' checks run in the statement that logs the
    command; when they fail, the resolver's own checks say why on the rows it read."""
    try:
        return await _log(ctx, raw, new, guard=targets.guard_of(check))
    except TargetsRefused as refused:
        settled = targets.settle(check, new, targets.rows_of(refused.rows))  # raises, always
    log.error("the statement refused a %s its checks accept: logged unguarded", new.kind)
    return await _log(ctx, raw, settled)  # pragma: no cover - the two agree (tests say so)


async def _log(
    ctx: Context, raw: RawReads | None, new: NewCommand, guard: Guard | None = None
) -> Accepted:
    pending = PENDING_AUDIT.get()
    return await command_intake.accept(
        ctx.engine,
        new,
        now=ctx.now,
        audited=None if pending is None else pending.entry,
        read_along=_freshness_rows(ctx),
        raw=raw,
        guard=guard,
        scope=ctx.scope,
    )


async def _rows(ctx: Context, raw: RawReads | None, check: Checker) -> targets.Found:
    """The targets' rows, read on a bare connection if there are any (PostgreSQL,
    readmodel/raw_reads.py) and the caller has no row rules; else on the engine's (the rules'
    values differ per caller: the engine compiles them)."""
    if not check.targets:
        return []
    if raw is None or not ctx.scope.unrestricted:
        async with autocommit(ctx.engine) as conn:  # reads that stand alone: no BEGIN / ROLLBACK
            return await targets.read_rows(conn, check, ctx.scope)
    async with raw.connect() as bare:
        return await targets.read_rows(bare, check, ctx.scope)


async def _logged(ctx: Context, key: str) -> Row[Any] | None:
    async with autocommit(ctx.engine) as conn:
        return await command_log.by_key(conn, key, ctx.principal.id)


def _freshness_rows(ctx: Context) -> str | None:
    """The ``sync_state`` rows as the compiled read path reads them, when the answer's
    ``extensions.freshness`` will take them (an HTTP request's state: gateway/consistency.py)."""
    if _http_state(ctx) is None:
        return None
    return _sync_rows(ctx.engine.dialect.name)


@lru_cache(maxsize=2)
def _sync_rows(dialect: str) -> str:
    return sync_states.expression(Dialect(dialect, None))


def _keep_freshness(ctx: Context, text: str | None) -> None:
    state = _http_state(ctx)
    if state is not None and text is not None:
        sync_states.keep(state, text)


def _http_state(ctx: Context) -> Any:
    """The request's state, for an HTTP request (a WebSocket's outlives its operations)."""
    scope = getattr(ctx.request, "scope", None)
    if not isinstance(scope, dict) or scope.get("type") != "http":
        return None
    return ctx.request.state


def replay(existing: Row[Any], digest: str) -> Row[Any]:
    """The command already logged under a key, if this is the same input; else refuse."""
    if existing.input_hash != digest:
        raise CommandRefused(
            RefusalCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotencyKey was already used for a different input",
        )
    return existing


def hand_off(ctx: Context, command_id: int) -> None:
    """Ask the relay to queue the command (off this request's path: it never waits or fails
    for the queue); should the relay not get to it, the periodic sweep will."""
    state = getattr(getattr(ctx.request, "app", None), "state", None)
    relay = getattr(state, "command_relay", None)
    if relay is not None:
        relay.hand_off(command_id)


def asked_by(ctx: Context) -> dict[str, Any]:
    """The ``NewCommand`` fields that record who asked (idempotency keys are theirs alone)."""
    p = ctx.principal
    return {
        "principal_id": p.id,
        "principal_role": p.role.value,
        "credential_id": p.credential_id,
    }


def correlation_id(ctx: Context) -> str:
    """The caller's correlation id (``X-Correlation-Id`` / ``X-Request-Id``) or a new one."""
    headers = getattr(ctx.request, "headers", None) or {}
    for name in CORRELATION_HEADERS:
        value = headers.get(name)
        if value and CORRELATION_ID.match(value):
            return str(value)
    return telemetry.get("correlation_id") or uuid.uuid4().hex  # the request's own, if any
