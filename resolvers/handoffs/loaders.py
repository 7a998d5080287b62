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
from sqlalchemy.sql.elements import ColumnElement

from readmodel import command_log
from readmodel.reads.deal_projects import projects_by_handoff
from readmodel.reads.scope import EVERYTHING, RowScope
from readmodel.tables import Handoff, HandoffStep, Project, table_of
from resolvers.context import Context

HANDOFFS, STEPS, PROJECTS = table_of(Handoff), table_of(HandoffStep), table_of(Project)
Conditions = list[ColumnElement[bool]]
ATTRIBUTE = "handoff_loaders"


class _Batch(DataLoader):  # type: ignore[misc]
    def __init__(self, engine: AsyncEngine, fetch: Any, missing: Any = None) -> None:
        super().__init__()
        self._engine, self._fetch, self._missing = engine, fetch, missing

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            found = await self._fetch(conn, list(keys))
        return [found.get(k, list() if self._missing is list else None) for k in keys]


def _by_opportunity(where: Conditions) -> Any:
    async def fetch(conn: Any, keys: list[int]) -> dict[int, Row[Any]]:
        stmt = select(HANDOFFS).where(HANDOFFS.c.opportunity_id.in_(keys), *where)
        return {row.opportunity_id: row for row in await conn.execute(stmt)}

    return fetch


def _by_id(where: Conditions) -> Any:
    async def fetch(conn: Any, keys: list[int]) -> dict[int, Row[Any]]:
        stmt = select(HANDOFFS).where(HANDOFFS.c.id.in_(keys), *where)
        return {row.id: row for row in await conn.execute(stmt)}

    return fetch


def _projects(where: Conditions) -> Any:
    return lambda conn, keys: projects_by_handoff(conn, keys, where=where)


async def _steps(conn: Any, keys: list[int]) -> dict[int, list[Row[Any]]]:
    stmt = select(STEPS).where(STEPS.c.handoff_id.in_(keys)).order_by(STEPS.c.position)
    found: dict[int, list[Row[Any]]] = {}
    for row in await conn.execute(stmt):
        found.setdefault(row.handoff_id, []).append(row)
    return found


class HandoffLoaders:
    """``handoff_by_id``, ``handoff_by_opportunity``, ``steps_by_handoff``, ``command_by_id``,
    ``project_by_handoff``; handoffs and their projects within the caller's row ``scope``."""

    def __init__(self, engine: AsyncEngine, scope: RowScope = EVERYTHING) -> None:
        handoffs = scope.conditions(HANDOFFS)
        self.handoff_by_id = _Batch(engine, _by_id(handoffs))
        self.handoff_by_opportunity = _Batch(engine, _by_opportunity(handoffs))
        self.steps_by_handoff = _Batch(engine, _steps, missing=list)
        self.command_by_id = _Batch(engine, command_log.by_ids)
        self.project_by_handoff = _Batch(engine, _projects(scope.conditions(PROJECTS)))


def loaders_of(ctx: Context) -> HandoffLoaders:
    """This request's handoff loaders (made once per request, on first use)."""
    found = getattr(ctx, ATTRIBUTE, None)
    if found is None:
        found = HandoffLoaders(ctx.engine, ctx.scope)
        setattr(ctx, ATTRIBUTE, found)
    return found


def forget(ctx: Context) -> None:
    """Drop this request's handoff loaders: a subscription's next event reads afresh."""
    if hasattr(ctx, ATTRIBUTE):
        delattr(ctx, ATTRIBUTE)
