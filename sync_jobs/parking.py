"""Rows whose parent has not arrived: parked, retried on every pull, never dropped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.figures.stored import lock_figures, refresh_stale
from readmodel.tables import SyncParked, table_of
from sync_jobs.apply import ApplyResult, apply_rows
from sync_jobs.checkpoints import add_applied
from sync_jobs.exceptions import ORPHANED, flag_orphans, resolve
from sync_jobs.identity import DEFAULT_ACCOUNT_MASTER
from sync_jobs.rows import CanonicalRow, Ref
from sync_jobs.sql import upsert_insert

PARKED = table_of(SyncParked)


async def park(
    conn: AsyncConnection, rows: Sequence[CanonicalRow], object_type: str, at: datetime
) -> None:
    """Keep ``rows`` until their parents arrive (the newest version of each record wins)."""
    for row in rows:
        stmt = upsert_insert(conn, PARKED).values(
            table_name=row.table,
            source_system=row.source_system,
            object_type=object_type,
            source_id=row.source_id,
            source_version=row.source_version,
            payload=encode(row),
            parked_at=at,
            attempts=0,
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["table_name", "source_system", "source_id"],
                set_={
                    "source_version": stmt.excluded.source_version,
                    "payload": stmt.excluded.payload,
                },
                where=PARKED.c.source_version < stmt.excluded.source_version,
            )
        )


async def retry_parked(
    conn: AsyncConnection,
    system: str,
    at: datetime,
    *,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
) -> ApplyResult:
    """Apply what can be applied now; what is still orphaned stays parked (attempts + 1).

    A row still parked after ``exceptions.ORPHAN_AFTER_ATTEMPTS`` attempts opens an
    ``orphaned`` integration exception, resolved when the row finally applies.
    """
    parked = (
        await conn.execute(
            select(PARKED).where(PARKED.c.source_system == system).order_by(PARKED.c.id)
        )
    ).all()
    total = ApplyResult()
    if parked:
        await lock_figures(conn)
    for table in dict.fromkeys(p.table_name for p in parked):
        mine = [p for p in parked if p.table_name == table]
        rows = [decode(p.payload) for p in mine]
        result = await apply_rows(
            conn, rows, at, account_master=account_master, object_type=mine[0].object_type
        )
        waiting = {r.source_id for r in result.deferred}
        done = [p for p in parked if p.table_name == table and p.source_id not in waiting]
        if done:
            await conn.execute(delete(PARKED).where(PARKED.c.id.in_([p.id for p in done])))
            await _credit(conn, system, done, result.applied)
            for object_type in dict.fromkeys(p.object_type for p in done):
                ids = [p.source_id for p in done if p.object_type == object_type]
                await resolve(conn, system, ids, (ORPHANED,), at, object_type=object_type)
        total.applied += result.applied
        total.skipped += result.skipped
        total.deferred += result.deferred
    if total.deferred:
        await conn.execute(
            update(PARKED)
            .where(PARKED.c.source_system == system)
            .values(attempts=PARKED.c.attempts + 1)
        )
        await flag_orphans(conn, system, at, account_master=account_master)
    if total.applied:
        await refresh_stale(conn, at.date())
    return total


async def _credit(conn: AsyncConnection, system: str, done: Sequence[Any], applied: int) -> None:
    """Count rows applied late under the pull that parked them (all of one table here)."""
    if applied:
        await add_applied(conn, system, done[0].object_type, applied)


def encode(row: CanonicalRow) -> str:
    """A canonical row as JSON, with its dates, decimals and parent references tagged."""
    return json.dumps(
        {
            "table": row.table,
            "system": row.source_system,
            "id": row.source_id,
            "version": row.source_version.isoformat(),
            "deleted_at": None if row.deleted_at is None else row.deleted_at.isoformat(),
            "external_id": row.external_id,
            "values": {k: _tag(v) for k, v in row.values.items()},
        }
    )


def decode(payload: str) -> CanonicalRow:
    data = json.loads(payload)
    deleted = data["deleted_at"]
    return CanonicalRow(
        table=data["table"],
        source_system=data["system"],
        source_id=data["id"],
        source_version=datetime.fromisoformat(data["version"]),
        values={k: _untag(v) for k, v in data["values"].items()},
        deleted_at=None if deleted is None else datetime.fromisoformat(deleted),
        external_id=data.get("external_id"),  # absent from rows parked before identity
    )


def _tag(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": [value.table, value.system, value.source_id]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    return value


def _untag(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    return {
        "$ref": lambda: Ref(*raw),
        "$datetime": lambda: datetime.fromisoformat(raw),
        "$date": lambda: date.fromisoformat(raw),
        "$decimal": lambda: Decimal(raw),
    }[tag]()
