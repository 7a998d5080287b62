"""A source's scheduling state in ``sync_state``: quota pauses, failures, completed pulls.

``checkpoints.py`` records pages; this module records what the scheduler decides about a
whole source: that it rests until its daily quota resets (``paused_until``), and that a pull
of an object finished cleanly even when it brought no page (so freshness shows a source
that is quiet, not one that is stale).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.tables import SyncState, table_of
from sync_jobs.errors import QuotaExhausted
from sync_jobs.sql import upsert_insert

STATE = table_of(SyncState)
MAX_ERROR_LENGTH = 1000


async def paused_until(engine: AsyncEngine, system: str) -> datetime | None:
    """The latest ``paused_until`` among the source's objects (``None``: never paused)."""
    stmt = select(func.max(STATE.c.paused_until)).where(STATE.c.system == system)
    async with engine.connect() as conn:
        value: datetime | None = (await conn.execute(stmt)).scalar_one_or_none()
    return value


async def resting_until(engine: AsyncEngine, system: str, now: datetime) -> datetime | None:
    """The end of the source's quota pause while it still rests, else ``None``."""
    until = await paused_until(engine, system)
    return None if until is None or until <= now else until


async def rest_source(
    engine: AsyncEngine,
    system: str,
    objects: Sequence[str],
    error: QuotaExhausted,
    *,
    pause_seconds: float,
    now: datetime,
) -> datetime:
    """Rest the whole source after its daily quota ran out: max(Retry-After, the pause).

    Pulls, refreshes and commands all read the same pause, so none of them calls the source
    before it ends. Returns the end of the pause.
    """
    until = now + timedelta(seconds=max(error.retry_after or 0.0, pause_seconds))
    message = f"QuotaExhausted: {error}; paused until {until.isoformat()}"
    await pause_source(engine, system, objects, until, message, now)
    return until


async def pause_source(
    engine: AsyncEngine,
    system: str,
    objects: Sequence[str],
    until: datetime,
    error: str,
    at: datetime,
) -> None:
    """Rest every object of ``system`` until ``until``, recording why on each of them."""
    await _mark(engine, system, objects, paused_until=until, last_attempt_at=at, last_error=error)


async def mark_failing(
    engine: AsyncEngine, system: str, objects: Sequence[str], error: str, at: datetime
) -> None:
    """A pull of the source failed: the objects it did not reach are FAILING too.

    Without this, an outage showed only the object being pulled as failing while the others
    kept their last success (OK for three intervals). Their checkpoints stay as they were.
    """
    await _mark(engine, system, objects, last_attempt_at=at, last_error=error)


async def _mark(engine: AsyncEngine, system: str, objects: Sequence[str], **values: Any) -> None:
    """Set ``values`` on the state of each of ``objects`` (created if missing), one transaction;
    ``last_error`` is cut to its column."""
    values["last_error"] = values["last_error"][:MAX_ERROR_LENGTH]
    async with engine.begin() as conn:
        for object_type in objects:
            await _ensure(conn, system, object_type)
        await conn.execute(
            update(STATE)
            .where(STATE.c.system == system, STATE.c.object_type.in_(objects))
            .values(**values)
        )


async def mark_pulled(engine: AsyncEngine, system: str, object_type: str, at: datetime) -> None:
    """A pull of this object ran to the end: it is fresh as of ``at`` and no longer paused."""
    async with engine.begin() as conn:
        await _ensure(conn, system, object_type)
        await conn.execute(
            update(STATE)
            .where(STATE.c.system == system, STATE.c.object_type == object_type)
            .values(last_attempt_at=at, last_success_at=at, last_error=None, paused_until=None)
        )


async def _ensure(conn: AsyncConnection, system: str, object_type: str) -> None:
    """Create the state row if missing (safe when two workers race to create it)."""
    stmt = upsert_insert(conn, STATE).values(
        system=system, object_type=object_type, records_applied=0
    )
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=["system", "object_type"]))
