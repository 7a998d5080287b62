"""The flow every mutation shares: replay check, validation, one logged row, hand-off.

1. The idempotency key is looked up first: a replay (same key, same input) gets its command
   back even if validation would now refuse it (the first call changed the record).
2. The mutation's ``build`` validates and resolves its targets on a read connection; any
   ``CommandRefused`` leaves the log untouched.
3. ``command_log.accept`` inserts the row (or finds a concurrent twin) in one transaction.
4. Only after that commit is the command handed to the relay (``app.state.command_relay``),
   and a failed hand-off never fails the mutation: the row stays ACCEPTED for the sweep.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from clientgraph.telemetry import context as telemetry
from readmodel import command_log
from readmodel.command_log import IdempotencyKeyReused, NewCommand
from readmodel.db import autocommit
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.validation import Checker
from resolvers.context import Context

log = logging.getLogger(__name__)

CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Write:
    """What a mutation resolved: the owning system, the record, the validated payload."""

    target_system: str
    target_object: str
    target_source_id: str | None
    payload: dict[str, Any] = field(default_factory=dict)


Build = Callable[[AsyncConnection], Awaitable[Write]]


async def accept_command(
    ctx: Context, kind: str, key: str, arguments: Mapping[str, Any], build: Build
) -> Row[Any]:
    """Log command ``kind`` under ``key`` (or return its replay); raise ``CommandRefused``."""
    checker = Checker()
    checker.idempotency_key(key)
    checker.refuse_if_any()
    digest = command_log.input_hash(kind, arguments)
    async with autocommit(ctx.engine) as conn:  # reads that stand alone: no BEGIN / ROLLBACK
        existing = await command_log.by_key(conn, key, ctx.principal.id)
        if existing is not None:
            return replay(existing, digest)
        write = await build(conn)
    new = NewCommand(
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
    try:
        accepted = await command_log.accept(ctx.engine, new, now=ctx.now)
    except IdempotencyKeyReused as error:
        return replay(error.existing, digest)
    if accepted.created:
        log.info("command %s accepted: %s on %s", accepted.row.id, kind, write.target_system)
        await hand_off(ctx, accepted.row.id)
    return accepted.row


def replay(existing: Row[Any], digest: str) -> Row[Any]:
    """The command already logged under a key, if this is the same input; else refuse."""
    if existing.input_hash != digest:
        raise CommandRefused(
            RefusalCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotencyKey was already used for a different input",
        )
    return existing


async def hand_off(ctx: Context, command_id: int) -> None:
    """Ask the relay to queue the command now; on any failure the periodic sweep will."""
    state = getattr(getattr(ctx.request, "app", None), "state", None)
    relay = getattr(state, "command_relay", None)
    if relay is None:
        return
    try:
        await relay.dispatch(command_id)
    except Exception:  # the command is safely ACCEPTED; never fail the mutation for this
        log.exception("command %s accepted but not handed to the queue", command_id)


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
