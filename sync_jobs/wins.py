"""Wins observed by sync: a deal seen *turning* won, the only win that opens a handoff.

A backfill finds the firm's history: deals won long ago or last week, most of them already
set up by hand. Opening a handoff for those would create a second project next to the
firm's own. So ``apply_page`` compares each page of opportunities with what the read model
held before it and records a ``win_observation`` when

* a deal the read model held as not won (or deleted) is now won, or
* a deal the read model did not hold arrives won in a pull that is not the object's
  initial backfill (a deal created and won between two pulls), or by a re-read
  (webhook, reconciliation).

The handoff sweep (``sync_jobs.handoff.triggers``) opens handoffs only for observed wins.
The observation commits in the page's transaction: a crash loses none and records none twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import Opportunity, WinObservation, table_of
from sync_jobs.checkpoints import load_checkpoint
from sync_jobs.rows import CanonicalRow
from sync_jobs.sql import upsert_insert

OPPORTUNITY = table_of(Opportunity)
OBSERVATIONS = table_of(WinObservation)
Held = dict[str, bool]  # source id → won and live in the read model before the page


def _deals(rows: Sequence[CanonicalRow]) -> list[CanonicalRow]:
    return [r for r in rows if r.table == "opportunity"]


async def held_before(conn: AsyncConnection, rows: Sequence[CanonicalRow]) -> Held:
    """Whether each deal of the page was won (and live) in the read model before it."""
    deals = _deals(rows)
    if not deals:
        return {}
    o = OPPORTUNITY.c
    stmt = select(o.source_id, o.is_won, o.deleted_at).where(
        o.source_system == deals[0].source_system,
        o.source_id.in_({r.source_id for r in deals}),
    )
    found = await conn.execute(stmt)
    return {row.source_id: bool(row.is_won) and row.deleted_at is None for row in found}


async def observe(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    before: Held,
    now: datetime,
    *,
    object_type: str,
    backfill: bool | None,
) -> int:
    """Record the deals of ``rows`` that turned won (see the module docstring).

    Args:
        conn: the page's transaction.
        rows: the page, applied; only opportunities are looked at.
        before: ``held_before`` of the same page, read before it was applied.
        now: the time of the observation.
        object_type: the connector's object type of the page.
        backfill: the page belongs to the object's initial backfill: a deal new to the
            read model is history, not a change. ``None`` (a webhook's re-read, a
            reconciliation): a backfill while the object has no checkpoint yet, so a hint
            that arrives before the first pull finished observes nothing.

    Returns:
        how many observations were recorded.
    """
    won = {r.source_id for r in _deals(rows) if r.deleted_at is None and r.values.get("is_won")}
    turned = {i for i in won if before.get(i) is False}  # held, and not won before
    new = won - before.keys()  # not held at all
    if not turned and not new:
        return 0
    system = _deals(rows)[0].source_system
    if new and backfill is None:
        backfill = await load_checkpoint(conn, system, object_type) is None
    if not backfill:
        turned |= new
    return await _record(conn, system, turned, now) if turned else 0


async def _record(conn: AsyncConnection, system: str, source_ids: set[str], now: datetime) -> int:
    """Insert observations for the deals now won in the read model (the version guard may
    have kept an older row); a deal observed before keeps its first observation."""
    o = OPPORTUNITY.c
    stmt = select(o.id).where(
        o.source_system == system,
        o.source_id.in_(source_ids),
        o.is_won.is_(True),
        o.deleted_at.is_(None),
    )
    ids = list((await conn.execute(stmt)).scalars())
    if not ids:
        return 0
    values = [{"opportunity_id": i, "source_system": system, "observed_at": now} for i in ids]
    insert = upsert_insert(conn, OBSERVATIONS).values(values)
    result = await conn.execute(insert.on_conflict_do_nothing(index_elements=["opportunity_id"]))
    return int(result.rowcount or 0)
