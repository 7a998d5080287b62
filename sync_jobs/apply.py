"""Write canonical rows into the read model: idempotent, ordered by the source's version.

One page of live rows is applied with a fixed number of statements: one lookup per
referenced parent table and one batched upsert (deletions: one UPDATE each). An upsert only
changes a row when the incoming ``source_version`` is not older (sources stamp whole seconds)
*and* the content hash differs, and the condition is in the SQL itself, so two workers racing
on the same record can never let an older version win. Client records of a system other than
the account master are not inserted: identity resolution links them to the master's accounts
(``sync_jobs/identity.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import AccountXref, metadata, table_of
from sync_jobs.identity import DEFAULT_ACCOUNT_MASTER, link_clients, needs_identity
from sync_jobs.identity_decisions import CREATE, Decided, decisions_for
from sync_jobs.rows import CanonicalRow, Ref
from sync_jobs.sql import upsert_insert


@dataclass
class ApplyResult:
    """What a page did: rows written, rows skipped (stale or unchanged), rows waiting."""

    applied: int = 0
    skipped: int = 0
    deferred: list[CanonicalRow] = field(default_factory=list)


async def apply_rows(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    synced_at: datetime,
    *,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
    object_type: str | None = None,
) -> ApplyResult:
    """Apply rows of one table. Rows whose parent is not in the read model yet are deferred.

    Args:
        conn: a connection inside the caller's transaction (the checkpoint commits with it).
        rows: canonical rows, all of the same table and system.
        synced_at: the time to record as ``synced_at``.
        account_master: the system that owns the client list; other systems' client records
            are linked to its accounts, and deferred (with an exception) when none matches.
        object_type: the pull's object type, named in cross-references and exceptions
            (default: the table).
    """
    result = ApplyResult()
    if not rows:
        return result
    if needs_identity(rows[0], account_master):
        return await _apply_clients(conn, rows, synced_at, account_master, object_type)
    return await _apply_table(conn, rows, synced_at, account_master)


async def _apply_clients(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    synced_at: datetime,
    account_master: str,
    object_type: str | None,
) -> ApplyResult:
    """Link a non-master system's clients; those an operator chose to create become accounts
    of their own first (with their system's lineage), then are linked to them."""
    kind = object_type or rows[0].table
    decided = await decisions_for(conn, rows[0].source_system, (r.source_id for r in rows))
    own = [r for r in rows if r.deleted_at is None and _creates(decided.get(r.source_id))]
    if own:  # their accounts are written now: read the decisions again, with their ids
        await _apply_table(conn, own, synced_at, account_master)
    linked = await link_clients(
        conn,
        rows,
        synced_at,
        account_master=account_master,
        object_type=kind,
        decided=None if own else decided,
    )
    return ApplyResult(linked.applied, linked.skipped, linked.deferred)


def _creates(decision: Decided | None) -> bool:
    return decision is not None and decision.action == CREATE


async def _apply_table(
    conn: AsyncConnection, rows: Sequence[CanonicalRow], synced_at: datetime, account_master: str
) -> ApplyResult:
    result = ApplyResult()
    table = metadata.tables[rows[0].table]
    resolved = await _resolve_refs(conn, rows, account_master)
    live, deleted = [], []
    for row in rows:
        values = _resolve(row, resolved)
        if values is None:
            result.deferred.append(row)
        elif row.deleted_at is None:
            live.append(_params(table, row, values, synced_at))
        else:
            deleted.append(row)
    result.applied += await _upsert(conn, table, live)
    result.applied += await _tombstone(conn, table, deleted, synced_at)
    result.skipped = len(rows) - len(result.deferred) - result.applied
    return result


async def _resolve_refs(
    conn: AsyncConnection, rows: Sequence[CanonicalRow], account_master: str
) -> dict[Ref, int]:
    """Read-model ids of every parent the rows name: one statement per (table, system).

    A client of a non-master system (``Ref("account", "netsuite", …)``) has no account row of
    its own: it resolves to the master's account through ``account_xref``.
    """
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        for value in row.values.values():
            if isinstance(value, Ref):
                wanted[(value.table, value.system)].add(value.source_id)
    found: dict[Ref, int] = {}
    for (name, system), source_ids in sorted(wanted.items()):
        linked = name == "account" and system != account_master
        stmt = _parent_lookup(name, system, source_ids, linked=linked)
        for row_id, source_id, _own in sorted(await conn.execute(stmt), key=lambda r: r[2]):
            found[Ref(name, system, source_id)] = row_id  # the system's own row wins
    return found


def _parent_lookup(name: str, system: str, source_ids: set[str], *, linked: bool) -> Any:
    """``(id, source_id, own)`` of parents; with ``linked``, xref hits too (``own`` = 0)."""
    t = metadata.tables[name]
    own = select(t.c.id, t.c.source_id, literal(1).label("own")).where(
        t.c.source_system == system, t.c.source_id.in_(source_ids)
    )
    if not linked:
        return own
    x = table_of(AccountXref)
    via_xref = select(x.c.account_id, x.c.source_id, literal(0).label("own")).where(
        x.c.system == system, x.c.source_id.in_(source_ids)
    )
    return union_all(own, via_xref)


def _resolve(row: CanonicalRow, resolved: dict[Ref, int]) -> dict[str, Any] | None:
    values = {}
    for column, value in row.values.items():
        if isinstance(value, Ref):
            if value not in resolved:
                return None
            value = resolved[value]
        values[column] = value
    return values


def _params(
    table: Table, row: CanonicalRow, values: dict[str, Any], synced_at: datetime
) -> dict[str, Any]:
    """Lineage columns are apply's job; ``updated_at`` (where a table has it) is the version."""
    mirrors = {"updated_at": row.source_version} if "updated_at" in table.c else {}
    return {
        **mirrors,
        **values,
        "source_system": row.source_system,
        "source_id": row.source_id,
        "source_version": row.source_version,
        "synced_at": synced_at,
        "deleted_at": None,
        "payload_hash": row.payload_hash(),
    }


async def _upsert(conn: AsyncConnection, table: Table, params: list[dict[str, Any]]) -> int:
    if not params:
        return 0
    stmt = upsert_insert(conn, table)
    changed = {c: stmt.excluded[c] for c in params[0] if c not in ("source_system", "source_id")}
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_system", "source_id"],
        set_=changed,
        # ``<=``: sources stamp whole seconds (Salesforce's SystemModstamp), so two edits in
        # one second share a stamp; the later read of a shared stamp wins when the content
        # differs, and the next pull (which re-reads that second) settles any race.
        where=and_(
            table.c.source_version <= stmt.excluded.source_version,
            table.c.payload_hash.is_distinct_from(stmt.excluded.payload_hash),
        ),
    ).returning(table.c.id)
    written = await conn.execute(stmt, params)
    return len(written.all())


async def _tombstone(
    conn: AsyncConnection, table: Table, rows: list[CanonicalRow], synced_at: datetime
) -> int:
    """Soft-delete rows the source deleted, unless the read model holds a newer version.

    One UPDATE per deletion: deletions are rare, and asyncpg reports no row count for a batch.
    """
    stmt = (
        update(table)
        .where(
            table.c.source_system == bindparam("b_system"),
            table.c.source_id == bindparam("b_id"),
            table.c.source_version <= bindparam("b_version"),
            table.c.deleted_at.is_(None),
        )
        # the deletion's stamp becomes the row's version: a read taken before the delete
        # and applied after it is older, so it cannot bring the record back
        .values(
            deleted_at=bindparam("b_deleted"),
            source_version=bindparam("b_version"),
            synced_at=synced_at,
        )
    )
    done = 0
    for r in rows:
        params = {
            "b_system": r.source_system,
            "b_id": r.source_id,
            "b_version": r.source_version,
            "b_deleted": r.deleted_at,
        }
        done += (await conn.execute(stmt, params)).rowcount
    return done
