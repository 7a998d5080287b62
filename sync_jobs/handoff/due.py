"""Which wins sync may hand off now: observed, recent, unhandled, and looked at by every PSA.

A won deal found by sync gets a handoff only when all of these hold:

* its win was *observed* as a change (``sync_jobs.wins``), never found by a backfill;
* it closed within ``LOOKBACK`` (a deal backdated further was set up before);
* it has no handoff and no project in the read model (through an engagement);
* every system that owns projects (the deal's ERP by its route, and every configured
  source that maps projects) has pulled its projects successfully *after* the win was
  observed; a system that never pulled them holds every win back. Until then a project
  the firm made for the deal may simply not have arrived yet; the deal waits for the next
  sweep.

The create-project step still asks the owning system for a project of the deal before
making one (the firm may make it between our pull and our write): this gate keeps
handoffs from even starting on a half-synced picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.tables import (
    Engagement,
    Handoff,
    Opportunity,
    Project,
    SyncState,
    WinObservation,
    table_of,
)
from sync_jobs.handoff.routes import route_for

# A deal won (by close date) longer ago than this gets no handoff from sync, even when its
# win is observed late (a reconciliation repairing a missed record, a backdated close).
LOOKBACK = timedelta(days=30)
OPPORTUNITY, ENGAGEMENT = table_of(Opportunity), table_of(Engagement)
PROJECT, HANDOFFS = table_of(Project), table_of(Handoff)
OBSERVED, STATE = table_of(WinObservation), table_of(SyncState)


async def due_wins(
    engine: AsyncEngine, now: datetime, project_objects: Mapping[str, str]
) -> list[Row[Any]]:
    """Observed wins to open a handoff for now (``id``, ``closed_at``), by deal id.

    Args:
        engine: the read model.
        now: the sweep's time (``LOOKBACK`` counts back from it).
        project_objects: each configured system that owns projects → the object type its
            projects are pulled as (NetSuite ``job``, Tryton ``project``).
    """
    async with engine.connect() as conn:
        candidates = await _candidates(conn, now)
        if not candidates:
            return []
        pulled = await projects_pulled_at(conn, project_objects)
    return [deal for deal in candidates if synced_past(deal, pulled)]


async def _candidates(conn: AsyncConnection, now: datetime) -> list[Row[Any]]:
    o, e, p, w = OPPORTUNITY.c, ENGAGEMENT.c, PROJECT.c, OBSERVED.c
    has_project = exists().where(
        and_(e.opportunity_id == o.id, p.engagement_id == e.id, p.deleted_at.is_(None))
    )
    has_handoff = exists().where(HANDOFFS.c.opportunity_id == o.id)
    stmt = (
        select(o.id, o.closed_at, o.source_system, w.observed_at)
        .join(OBSERVED, w.opportunity_id == o.id)
        .where(
            o.is_won.is_(True),
            o.deleted_at.is_(None),
            o.close_date >= (now - LOOKBACK).date(),
            ~has_handoff,
            ~has_project,
        )
        .order_by(o.id)
    )
    return list(await conn.execute(stmt))


async def projects_pulled_at(
    conn: AsyncConnection, project_objects: Mapping[str, str]
) -> dict[str, datetime | None]:
    """Each system owning projects → its last successful pull of them (``None``: never)."""
    s = STATE.c
    stmt = select(s.system, s.object_type, s.last_success_at).where(
        s.system.in_(list(project_objects))
    )
    pulled: dict[str, datetime | None] = dict.fromkeys(project_objects)
    for row in await conn.execute(stmt):
        if project_objects[row.system] == row.object_type:
            pulled[row.system] = row.last_success_at
    return pulled


def synced_past(deal: Row[Any], pulled: dict[str, datetime | None]) -> bool:
    """Whether every system owning projects pulled them after the deal's win was seen."""
    owners: Iterable[str] = {route_for(deal.source_system).erp, *pulled}
    return all(_after(pulled.get(system), deal.observed_at) for system in owners)


def _after(moment: datetime | None, observed_at: datetime) -> bool:
    return moment is not None and moment > observed_at
