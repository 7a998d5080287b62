"""Per-request DataLoaders of handoffs: one statement per batch of keys (no N+1).

They hang off the request's ``Context`` (made on first use), since ``resolvers.dataloaders``
is shared by every domain and handoffs are read only by their own fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.reads.deal_projects import projects_by_handoff
from readmodel.tables import Handoff, HandoffStep, table_of
from resolvers.context import Context

HANDOFFS, STEPS = table_of(Handoff), table_of(HandoffStep)
ATTRIBUTE = "handoff_loaders"


class _Batch(DataLoader):  # type: ignore[misc]
    def __init__(self, engine: AsyncEngine, fetch: Any, missing: Any = None) -> None:
        super().__init__()
        self._engine, self._fetch, self._missing = engine, fetch, missing

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            found = await self._fetch(conn, list(keys))
        return [found.get(k, list() if self._missing is list else None) for k in keys]


async def _by_opportunity(conn: Any, keys: list[int]) -> dict[int, Row[Any]]:
    rows = await conn.execute(select(HANDOFFS).where(HANDOFFS.c.opportunity_id.in_(keys)))
    return {row.opportunity_id: row for row in rows}


async def _by_id(conn: Any, keys: list[int]) -> dict[int, Row[Any]]:
    rows = await conn.execute(select(HANDOFFS).where(HANDOFFS.c.id.in_(keys)))
    return {row.id: row for row in rows}


async def _steps(conn: Any, keys: list[int]) -> dict[int, list[Row[Any]]]:
    stmt = select(STEPS).where(STEPS.c.handoff_id.in_(keys)).order_by(STEPS.c.position)
    found: dict[int, list[Row[Any]]] = {}
    for row in await conn.execute(stmt):
        found.setdefault(row.handoff_id, []).append(row)
    return found


class HandoffLoaders:
    """``handoff_by_id``, ``handoff_by_opportunity``, ``steps_by_handoff``, ``command_by_id``,
    ``project_by_handoff``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.handoff_by_id = _Batch(engine, _by_id)
        self.handoff_by_opportunity = _Batch(engine, _by_opportunity)
        self.steps_by_handoff = _Batch(engine, _steps, missing=list)
        self.command_by_id = _Batch(engine, command_log.by_ids)
        self.project_by_handoff = _Batch(engine, projects_by_handoff)


def loaders_of(ctx: Context) -> HandoffLoaders:
    """This request's handoff loaders (made once per request, on first use)."""
    found = getattr(ctx, ATTRIBUTE, None)
    if found is None:
        found = HandoffLoaders(ctx.engine)
        setattr(ctx, ATTRIBUTE, found)
    return found
