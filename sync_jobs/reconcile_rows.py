"""The read model's side of reconciliation: stored stamps, stored content, rewinds.

``reconcile.py`` compares these with the source; this module only reads and rewinds rows
of one system in one table (or its ``account_xref`` links for a non-master's clients).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

# Lineage and its mirror: a row whose other columns did not change was not "repaired".
NOT_CONTENT = frozenset(
    {"id", "source_system", "source_id", "source_version", "synced_at", "deleted_at"}
    | {"payload_hash", "updated_at"}
)
REWOUND = datetime(1970, 1, 1, tzinfo=UTC)  # older than any real version stamp


@dataclass(frozen=True)
class Stamp:
    """A stored record's version stamp, content hash and liveness: enough to spot drift."""

    version: datetime
    payload_hash: str | None
    live: bool


@dataclass(frozen=True)
class Stored:
    """A stored record's data columns (lineage left out), to count what a repair changed."""

    version: datetime
    live: bool
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """Where a system's records of one object type live in the read model."""

    system: str
    table: Table
    xref: bool  # client records of a non-master system: their links, not account rows


async def stamps(conn: AsyncConnection, target: Target) -> dict[str, Stamp]:
    """Every stored record of the target's system, tombstones included."""
    t = target.table
    if target.xref:
        stmt = select(t.c.source_id, t.c.source_version).where(t.c.system == target.system)
        return {r.source_id: Stamp(r.source_version, None, True) for r in await conn.execute(stmt)}
    stmt = select(t.c.source_id, t.c.source_version, t.c.payload_hash, t.c.deleted_at).where(
        t.c.source_system == target.system
    )
    return {
        r.source_id: Stamp(r.source_version, r.payload_hash, r.deleted_at is None)
        for r in await conn.execute(stmt)
    }


async def contents(conn: AsyncConnection, target: Target, ids: Sequence[str]) -> dict[str, Stored]:
    """The stored records ``ids`` with their data columns (a link: its account)."""
    t = target.table
    if target.xref:
        stmt = select(t.c.source_id, t.c.source_version, t.c.account_id).where(
            t.c.system == target.system, t.c.source_id.in_(ids)
        )
        return {r[0]: Stored(r[1], True, (r[2],)) for r in await conn.execute(stmt)}
    data = [c for c in t.c if c.name not in NOT_CONTENT]
    stmt = select(t.c.source_id, t.c.source_version, t.c.deleted_at, *data).where(
        t.c.source_system == target.system, t.c.source_id.in_(ids)
    )
    return {r[0]: Stored(r[1], r[2] is None, tuple(r[3:])) for r in await conn.execute(stmt)}


async def set_stamps(
    conn: AsyncConnection, target: Target, stamps: dict[str, Stamp], *, rewind: bool = False
) -> None:
    """Rewind rows to REWOUND (guarded by their stamp), or put rewound rows back."""
    if not stamps:
        return
    t = target.table
    system_column = t.c.system if target.xref else t.c.source_system
    guard = bindparam("b_from", type_=t.c.source_version.type)
    values: dict[str, object] = {"source_version": bindparam("b_to", type_=guard.type)}
    if not target.xref:
        values["payload_hash"] = bindparam("b_hash", type_=t.c.payload_hash.type)
    stmt = (
        update(t)
        .where(system_column == target.system, t.c.source_id == bindparam("b_id"))
        .where(t.c.source_version == guard)
        .values(values)
    )
    params = [
        {
            "b_id": i,
            "b_from": s.version if rewind else REWOUND,
            "b_to": REWOUND if rewind else s.version,
            **({} if target.xref else {"b_hash": None if rewind else s.payload_hash}),
        }
        for i, s in stamps.items()
    ]
    await conn.execute(stmt, params)
