"""A pull's position in each source, saved in the same transaction as the rows it read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import SyncState, table_of
from sync_jobs.sql import upsert_insert

STATE = table_of(SyncState)
MAX_ERROR_LENGTH = 1000


async def load_checkpoint(conn: AsyncConnection, system: str, object_type: str) -> str | None:
    """Where the last committed page of this (system, object type) ended; ``None`` at first."""
    stmt = select(STATE.c.checkpoint).where(
        STATE.c.system == system, STATE.c.object_type == object_type
    )
    return (await conn.execute(stmt)).scalar_one_or_none()


async def save_page(
    conn: AsyncConnection,
    system: str,
    object_type: str,
    checkpoint: str | None,
    applied: int,
    at: datetime,
) -> None:
    """Record a committed page: new checkpoint, success time, rows applied (this pull, ever)."""
    await _ensure(conn, system, object_type)
    await conn.execute(
        update(STATE)
        .where(STATE.c.system == system, STATE.c.object_type == object_type)
        .values(
            checkpoint=checkpoint,
            last_attempt_at=at,
            last_success_at=at,
            **_credited(applied),
            last_error=None,
        )
    )


async def add_applied(conn: AsyncConnection, system: str, object_type: str, applied: int) -> None:
    """Credit rows applied outside a page (parked rows whose parent has arrived)."""
    await _ensure(conn, system, object_type)
    await conn.execute(
        update(STATE)
        .where(STATE.c.system == system, STATE.c.object_type == object_type)
        .values(**_credited(applied))
    )


async def start_pull(conn: AsyncConnection, system: str, object_type: str) -> None:
    """A pull of this object begins: ``records_applied`` counts what this pull applies."""
    await _ensure(conn, system, object_type)
    await conn.execute(
        update(STATE)
        .where(STATE.c.system == system, STATE.c.object_type == object_type)
        .values(records_applied=0)
    )


async def save_failure(
    conn: AsyncConnection, system: str, object_type: str, error: str, at: datetime
) -> None:
    """Record a failed attempt; the checkpoint stays where the last good page left it."""
    await _ensure(conn, system, object_type)
    await conn.execute(
        update(STATE)
        .where(STATE.c.system == system, STATE.c.object_type == object_type)
        .values(last_attempt_at=at, last_error=error[:MAX_ERROR_LENGTH])
    )


async def _ensure(conn: AsyncConnection, system: str, object_type: str) -> None:
    """Create the state row if missing (safe when two workers race to create it)."""
    stmt = upsert_insert(conn, STATE).values(
        system=system, object_type=object_type, records_applied=0
    )
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=["system", "object_type"]))


def _credited(applied: int) -> dict[str, Any]:
    """The updates that credit ``applied`` rows to the current pull and to the total."""
    return {
        "records_applied": STATE.c.records_applied + applied,
        "records_applied_total": STATE.c.records_applied_total + applied,
    }
