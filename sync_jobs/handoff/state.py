"""The ``handoff`` and ``handoff_step`` rows: opening a handoff once, reading and moving it.

``open_handoff`` is the only way a handoff is made: ``INSERT … ON CONFLICT (opportunity_id)
DO NOTHING`` and its steps in the same transaction, so concurrent closed-won events (five
redelivered webhooks, a pull racing a mutation) make one handoff and one set of steps; the
losers read the winner's row (a concurrent twin waits on the unique index until it commits).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.tables import Handoff, HandoffStatus, HandoffStep, StepStatus, table_of
from sync_jobs.handoff.steps import STEP_NAMES

HANDOFFS: Table = table_of(Handoff)
STEPS: Table = table_of(HandoffStep)
OPEN = (HandoffStatus.WAITING_FOR_DATA, HandoffStatus.READY)  # data may still be supplied
SYNC, MUTATION = "sync", "mutation"  # a handoff's trigger: how its deal's win was seen
TRIGGERS = (SYNC, MUTATION)


async def open_handoff(
    engine: AsyncEngine,
    opportunity_id: int,
    *,
    trigger: str,
    won_at: datetime | None,
    inputs: dict[str, Any] | None,
    now: datetime,
) -> tuple[int, bool]:
    """The handoff of ``opportunity_id`` (made now if there is none) and whether it was made.

    ``inputs`` (data a person supplied with the win) are merged into an existing handoff
    that has not started its steps yet.
    """
    async with engine.begin() as conn:
        new_id = await _insert(conn, opportunity_id, trigger, won_at, inputs or {}, now)
        if new_id is not None:
            await _insert_steps(conn, new_id)
            return new_id, True
        row = (
            await conn.execute(select(HANDOFFS).where(HANDOFFS.c.opportunity_id == opportunity_id))
        ).one()
        if inputs:
            await merge_inputs(conn, row, inputs, now)
        return int(row.id), False


async def _insert(
    conn: AsyncConnection,
    opportunity_id: int,
    trigger: str,
    won_at: datetime | None,
    inputs: dict[str, Any],
    now: datetime,
) -> int | None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(HANDOFFS).values(
        opportunity_id=opportunity_id,
        status=HandoffStatus.READY.value,
        trigger=trigger,
        readiness_score=0,
        missing="[]",
        inputs=json.dumps(inputs, sort_keys=True),
        manual_intervention=False,
        won_at=won_at,
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["opportunity_id"])
    return (await conn.execute(stmt.returning(HANDOFFS.c.id))).scalar_one_or_none()


async def _insert_steps(conn: AsyncConnection, handoff_id: int) -> None:
    rows = [
        {"handoff_id": handoff_id, "position": n, "name": name, "status": StepStatus.PENDING.value}
        for n, name in enumerate(STEP_NAMES, start=1)
    ]
    await conn.execute(STEPS.insert(), rows)


async def merge_inputs(
    conn: AsyncConnection, row: Row[Any], inputs: dict[str, Any], now: datetime
) -> bool:
    """Add supplied data to a handoff that has not started; True if it was merged."""
    if row.status not in OPEN:
        return False
    merged = {**json.loads(row.inputs), **inputs}
    stmt = (  # the status guard is in the statement: an advancer may have started meanwhile
        update(HANDOFFS)
        .where(HANDOFFS.c.id == row.id, HANDOFFS.c.status.in_([str(s) for s in OPEN]))
        .values(updated_at=now, inputs=json.dumps(merged, sort_keys=True))
    )
    return bool((await conn.execute(stmt)).rowcount == 1)


async def load(conn: AsyncConnection, handoff_id: int, *, lock: bool = False) -> Row[Any] | None:
    """The handoff; ``lock`` takes a row lock on PostgreSQL, so advancers of one handoff
    take turns (SQLite has one writer at a time anyway)."""
    stmt = select(HANDOFFS).where(HANDOFFS.c.id == handoff_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def steps_of(conn: AsyncConnection, handoff_id: int) -> list[Row[Any]]:
    stmt = select(STEPS).where(STEPS.c.handoff_id == handoff_id).order_by(STEPS.c.position)
    return list(await conn.execute(stmt))


async def set_handoff(conn: AsyncConnection, handoff_id: int, now: datetime, **values: Any) -> None:
    stmt = update(HANDOFFS).where(HANDOFFS.c.id == handoff_id).values(updated_at=now, **values)
    await conn.execute(stmt)


async def set_step(conn: AsyncConnection, step_id: int, **values: Any) -> None:
    await conn.execute(update(STEPS).where(STEPS.c.id == step_id).values(**values))


async def handoff_of_command(conn: AsyncConnection, command_id: int) -> int | None:
    """The handoff whose step ran ``command_id``, if any."""
    stmt = select(STEPS.c.handoff_id).where(STEPS.c.command_id == command_id)
    return (await conn.execute(stmt)).scalar_one_or_none()


async def in_flight(conn: AsyncConnection, limit: int) -> list[int]:
    """Handoffs that may move without anyone acting: waiting for data that sync may bring,
    ready, or in progress (a crash between steps leaves them so)."""
    moving = [*OPEN, HandoffStatus.IN_PROGRESS]
    stmt = select(HANDOFFS.c.id).where(HANDOFFS.c.status.in_([s.value for s in moving]))
    return list((await conn.execute(stmt.order_by(HANDOFFS.c.id).limit(limit))).scalars())
