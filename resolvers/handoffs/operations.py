"""What ``resumeHandoff``, ``retryHandoffStep`` and ``cancelHandoff`` share.

Like ``retryCommand``, an operator's action is itself a row of the command log (kind
``resume_handoff`` …, target system ``clientgraph``, SUCCEEDED at once), written in the
transaction that moves the handoff: a replay of the key answers the same row without acting
twice, and a refused move rolls both back. After the commit, ``advance_handoff`` is queued
(the orchestrator re-checks readiness and starts the next step); if the queue is down, the
sweep after the next pull advances it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel import command_log
from readmodel.command_log import CommandStatus
from readmodel.tables import HandoffStatus, StepStatus
from resolvers.commands.accept import replay
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.operator import operator_action
from resolvers.commands.validation import Checker
from resolvers.context import Context
from resolvers.handoffs.loaders import HANDOFFS, STEPS

log = logging.getLogger(__name__)

ADVANCE_JOB = "advance_handoff"
Move = Callable[[AsyncConnection, Row[Any], Context], Awaitable[None]]


async def act(
    ctx: Context, kind: str, key: str, args: Mapping[str, Any], check: Checker, move: Move
) -> Row[Any]:
    """Log the action and make ``move`` on the handoff ``args["handoff_id"]``, atomically."""
    check.idempotency_key(key)
    handoff_id = check.key("handoffId", args["handoff_id"], "Handoff")
    check.refuse_if_any()
    assert handoff_id is not None
    action = operator_action(ctx, kind, key, args, "handoff", handoff_id)
    async with ctx.engine.begin() as conn:
        logged = await command_log.insert_or_fetch(
            conn, action, now=ctx.now, status=CommandStatus.SUCCEEDED
        )
        if not logged.created:
            return replay(logged.row, action.input_hash)
        await move(conn, await _locked(conn, handoff_id), ctx)
    await _request_advance(ctx, handoff_id)
    return logged.row


async def _locked(conn: AsyncConnection, handoff_id: int) -> Row[Any]:
    stmt = select(HANDOFFS).where(HANDOFFS.c.id == handoff_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise CommandRefused(RefusalCode.NOT_FOUND, "handoffId: no such handoff")
    return row


def refuse_unless(row: Row[Any], allowed: tuple[HandoffStatus, ...], action: str) -> None:
    if row.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise CommandRefused(
            RefusalCode.INVALID_TRANSITION,
            f"only a handoff in {names} can be {action} (this one is {row.status})",
        )


async def reopen(
    conn: AsyncConnection, row: Row[Any], ctx: Context, inputs: dict[str, Any], step: str | None
) -> None:
    """Failed steps (or just ``step``) start over as a new attempt; the handoff goes back to
    READY, so the orchestrator checks readiness again before it writes anything."""
    s = STEPS.c
    where = [s.handoff_id == row.id, s.status == StepStatus.FAILED.value]
    if step is not None:
        where.append(s.name == step)
    reset = {"status": StepStatus.PENDING.value, "command_id": None, "attempt": s.attempt + 1}
    reset |= {"started_at": None, "completed_at": None, "error_code": None, "error_message": None}
    await conn.execute(update(STEPS).where(*where).values(**reset))
    values: dict[str, Any] = {"status": HandoffStatus.READY.value, "updated_at": ctx.now}
    values |= {"manual_intervention": True, "error_code": None, "error_message": None}
    if inputs:
        values["inputs"] = json.dumps({**json.loads(row.inputs), **inputs}, sort_keys=True)
    await conn.execute(update(HANDOFFS).where(HANDOFFS.c.id == row.id).values(**values))


async def cancel(conn: AsyncConnection, row: Row[Any], ctx: Context) -> None:
    values = {"status": HandoffStatus.CANCELLED.value, "updated_at": ctx.now}
    await conn.execute(update(HANDOFFS).where(HANDOFFS.c.id == row.id).values(**values))


async def _request_advance(ctx: Context, handoff_id: int) -> None:
    """Queue ``advance_handoff``; never fail the mutation for it (the sweep will)."""
    state = getattr(getattr(ctx.request, "app", None), "state", None)
    jobs = getattr(state, "jobs", None)
    if jobs is None:
        return
    try:
        await jobs.enqueue(ADVANCE_JOB, handoff_id)
    except Exception:
        log.exception("handoff %s moved but advance_handoff was not queued", handoff_id)
