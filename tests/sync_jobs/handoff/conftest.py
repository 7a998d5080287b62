# ruff: noqa: F811 - `sources` is the simulators' fixture, re-exported, and each helper's argument
"""Handoffs against both simulators: a won deal, driven step by step as the worker would."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from readmodel import command_log
from readmodel.command_log import FINAL_STATUSES
from readmodel.tables import Opportunity, table_of
from readmodel.types import utcnow
from sync_jobs.handoff import state
from sync_jobs.handoff.orchestrator import advance
from tests.sync_jobs.commands.conftest import (  # noqa: F401 - the fixtures, re-exported
    Sources,
    add_command,
    first,
    lossy_sources,
    run_to_the_end,
    sources,
)

OPPORTUNITY = table_of(Opportunity)


def open_deal(sources: Sources, **match: Any) -> dict[str, Any]:
    """An open deal (no engagement, no project) of a client in ``match``'s terms."""
    deals = [o for o in sources.rows["opportunity"] if not o["is_closed"] and o["service_line"]]
    return next(o for o in deals if all(o.get(k) == v for k, v in match.items()))


async def win(sources: Sources, deal: dict[str, Any], handoff: dict[str, Any] | None) -> int:
    """``mark_opportunity_won`` as the mutation logs it, run to the end; the handoff's id."""
    payload: dict[str, Any] = {"opportunity_id": deal["source_id"], "stage": "closed_won"}
    if handoff is not None:
        payload["handoff"] = handoff
    command_id = await add_command(sources.engine, "mark_opportunity_won", "salesforce", payload)
    await set_target(sources, command_id, deal["source_id"])
    assert await run_to_the_end(sources, command_id) == []
    return await handoff_of(sources, deal["source_id"])


async def set_target(sources: Sources, command_id: int, source_id: str) -> None:
    """The accepting side names the record it writes (``target_source_id``)."""
    async with sources.engine.begin() as conn:
        await conn.execute(
            command_log.COMMANDS.update()
            .where(command_log.COMMANDS.c.id == command_id)
            .values(target_source_id=source_id, target_object="opportunity")
        )


async def handoff_of(sources: Sources, source_id: str) -> int:
    o = OPPORTUNITY.c
    stmt = (
        select(state.HANDOFFS.c.id)
        .join(OPPORTUNITY, o.id == state.HANDOFFS.c.opportunity_id)
        .where(o.source_id == source_id)
    )
    async with sources.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def drive(sources: Sources, handoff_id: int, rounds: int = 12) -> str:
    """Advance, run the current step's command to its end (its hook advances), repeat."""
    for _ in range(rounds):
        status = (await advance(sources.engine, handoff_id, utcnow())).status
        pending = await pending_command(sources, handoff_id)
        if pending is None:
            return status
        await run_to_the_end(sources, pending)
    raise AssertionError(f"handoff {handoff_id} still moving after {rounds} rounds")


async def run_pending(sources: Sources, handoff_id: int) -> None:
    """Run the current step's command to its end (one step)."""
    await advance(sources.engine, handoff_id, utcnow())
    pending = await pending_command(sources, handoff_id)
    assert pending is not None
    await run_to_the_end(sources, pending)


async def pending_command(sources: Sources, handoff_id: int) -> int | None:
    async with sources.engine.connect() as conn:
        for step in await state.steps_of(conn, handoff_id):
            if step.command_id is None:
                continue
            command = await command_log.get(conn, step.command_id)
            if command is not None and command.status not in FINAL_STATUSES:
                return int(step.command_id)
    return None


async def handoff(sources: Sources, handoff_id: int) -> dict[str, Any]:
    async with sources.engine.connect() as conn:
        row = await state.load(conn, handoff_id)
        steps = await state.steps_of(conn, handoff_id)
    assert row is not None
    found = dict(row._mapping)
    found["missing"] = json.loads(row.missing)
    found["steps"] = [dict(s._mapping) for s in steps]
    return found


async def rows_of(sources: Sources, table: str, **match: Any) -> list[dict[str, Any]]:
    """Live read-model rows of ``table`` matching ``match``."""
    from readmodel.tables import metadata

    t = metadata.tables[table]
    live = [t.c.deleted_at.is_(None)] if "deleted_at" in t.c else []
    stmt = select(t).where(*(t.c[k] == v for k, v in match.items()), *live)
    async with sources.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def resume(sources: Sources, handoff_id: int, inputs: dict[str, Any]) -> None:
    """What ``resumeHandoff`` does to the rows: merge data, restart failed steps, READY."""
    from types import SimpleNamespace

    from resolvers.handoffs.operations import reopen

    ctx: Any = SimpleNamespace(now=utcnow())
    async with sources.engine.begin() as conn:
        row = await state.load(conn, handoff_id)
        assert row is not None
        await reopen(conn, row, ctx, inputs, None)
