"""What starts and moves handoffs: a deal seen closed-won, a step's command succeeding, a sweep.

Two ways a win is seen, one handoff either way (``state.open_handoff`` is idempotent):

* sync: after a pull, ``advance_handoffs`` opens handoffs for the wins sync *observed* as
  changes once every system owning projects has pulled past them (``due.due_wins``);
* the ``markOpportunityWon`` mutation: when its command SUCCEEDS, ``on_command_succeeded``
  opens the handoff with the data the caller supplied.

The same sweep re-runs ``advance`` for every handoff still moving: a waiting one whose data
arrived by sync goes on, and one left between steps by a crash resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Opportunity, table_of
from sync_jobs.context import deps_of
from sync_jobs.handoff import state
from sync_jobs.handoff.due import due_wins
from sync_jobs.handoff.orchestrator import Advanced, advance
from sync_jobs.handoff.steps import STEP_NAMES

log = logging.getLogger(__name__)

WON_KIND = "mark_opportunity_won"
SWEEP_LIMIT = 200  # handoffs advanced per sweep (the rest wait for the next pull)
OPPORTUNITY = table_of(Opportunity)


async def on_command_succeeded(ctx: dict[str, Any], command: Row[Any]) -> None:
    """The hook ``apply_command`` calls after SUCCEEDED; it never fails the command."""
    if command.kind != WON_KIND and command.kind not in STEP_NAMES:
        return
    deps = deps_of(ctx)
    try:
        handoff_id = await _handoff_for(deps.engine, command, deps.clock())
        if handoff_id is not None:
            await dispatch(ctx, [await advance(deps.engine, handoff_id, deps.clock())])
    except Exception:  # the sweep after the next pull picks the handoff up
        log.exception("handoff after command %s did not advance", command.id)


async def _handoff_for(engine: AsyncEngine, command: Row[Any], now: datetime) -> int | None:
    if command.kind != WON_KIND:
        async with engine.connect() as conn:
            return await state.handoff_of_command(conn, command.id)
    o = OPPORTUNITY.c
    stmt = select(o.id, o.closed_at).where(
        o.source_system == command.target_system, o.source_id == command.target_source_id
    )
    async with engine.connect() as conn:
        deal = (await conn.execute(stmt)).first()
    if deal is None:
        return None
    inputs = json.loads(command.payload).get("handoff") or None
    handoff_id, _ = await state.open_handoff(
        engine,
        deal.id,
        trigger=state.MUTATION,
        won_at=deal.closed_at or now,
        inputs=inputs,
        now=now,
    )
    return handoff_id


async def advance_handoffs(ctx: dict[str, Any]) -> dict[str, Any]:
    """Open handoffs for deals sync saw won, and advance every handoff still moving."""
    deps = deps_of(ctx)
    now = deps.clock()
    opened = 0
    owners = {
        name: object_type
        for name, source in deps.sources.items()
        for object_type, table in source.tables.items()
        if table == "project"
    }
    for deal in await due_wins(deps.engine, now, owners):
        _, created = await state.open_handoff(
            deps.engine,
            deal.id,
            trigger=state.SYNC,
            won_at=deal.closed_at or now,
            inputs=None,
            now=now,
        )
        opened += created
    async with deps.engine.connect() as conn:
        moving = await state.in_flight(conn, SWEEP_LIMIT)
    results = [await advance(deps.engine, handoff_id, now) for handoff_id in moving]
    await dispatch(ctx, results)
    return {"opened": opened, "advanced": len(results)}


async def advance_handoff(ctx: dict[str, Any], handoff_id: int) -> dict[str, Any]:
    """An arq job: advance one handoff (an operator resumed or retried it)."""
    deps = deps_of(ctx)
    result = await advance(deps.engine, handoff_id, deps.clock())
    await dispatch(ctx, [result])
    return {"handoff": handoff_id, "status": result.status}


async def dispatch(ctx: dict[str, Any], results: Iterable[Advanced]) -> None:
    """Queue the commands ``advance`` logged, under arq; embedded, the gateway's relay
    sweep queues them within ``writes.relay_interval_seconds``."""
    ids = [command_id for result in results for command_id in result.new_commands]
    if not ids or ctx.get("redis") is None:
        return
    from sync_jobs.commands.relay import ArqCommandDispatcher, relay_one  # relay imports jobs

    dispatcher = ArqCommandDispatcher(ctx["redis"])
    for command_id in ids:
        await relay_one(deps_of(ctx).engine, dispatcher, command_id)
