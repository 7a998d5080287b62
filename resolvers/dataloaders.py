"""DataLoaders: one batch of keys → one SQL statement. Created per request, never shared.

The number of statements a request runs depends on the shape of its query (how many distinct
fields and levels), not on how many rows each list holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import readmodel.figures as figures
from readmodel import tables
from readmodel.reads import deal_projects, freshness, lineage, rows
from readmodel.reads.scope import EVERYTHING, RowScope
from readmodel.reads.time_entries import TimeEntryQuery, time_entries_by_project

T = TypeVar("T")
Batch = Callable[[AsyncConnection, Sequence[int]], Awaitable[dict[int, Any]]]


class _Loader(DataLoader):  # type: ignore[misc]
    """Runs ``fetch(conn, keys)`` once per batch on a pooled connection."""

    def __init__(self, engine: AsyncEngine, fetch: Batch, *, missing: Any = None) -> None:
        super().__init__()
        self._engine = engine
        self._fetch = fetch
        self._missing = missing

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            found = await self._fetch(conn, keys)
        missing = self._missing
        return [found.get(k, missing() if callable(missing) else missing) for k in keys]


def _by_id(model: Any, scope: RowScope) -> Batch:
    t = tables.table_of(model)
    where = scope.conditions(t)
    return lambda conn, keys: rows.by_ids(conn, t, keys, where=where)


def _children(model: Any, parent: str, scope: RowScope, order_by: Sequence[str] = ("id",)) -> Batch:
    t = tables.table_of(model)
    where = scope.conditions(t)
    return lambda conn, keys: rows.by_parent(conn, t, parent, keys, where=where, order_by=order_by)


def _time_entries(query: TimeEntryQuery, scope: RowScope) -> Batch:
    where = scope.conditions(tables.table_of(tables.TimeEntry))
    return lambda conn, keys: time_entries_by_project(conn, keys, query, where=where)


class Loaders:
    """Every loader a request may use, named ``<thing>_by_<key>``.

    Every row loader reads within ``scope`` (the caller's clients): a row outside it loads as
    missing. Figures are keyed by a project, engagement or account the caller could load.
    """

    def __init__(self, engine: AsyncEngine, today: date, scope: RowScope = EVERYTHING) -> None:
        def one(fetch: Batch) -> _Loader:
            return _Loader(engine, fetch)

        def many(fetch: Batch) -> _Loader:
            return _Loader(engine, fetch, missing=list)

        self._engine = engine
        self._scope = scope
        self._sync_states: asyncio.Task[list[Row[Any]]] | None = None
        self._time_entries: dict[TimeEntryQuery, _Loader] = {}
        self.account_by_id = one(_by_id(tables.Account, scope))
        self.contact_by_id = one(_by_id(tables.Contact, scope))
        self.opportunity_by_id = one(_by_id(tables.Opportunity, scope))
        self.engagement_by_id = one(_by_id(tables.Engagement, scope))
        self.project_by_id = one(_by_id(tables.Project, scope))
        self.milestone_by_id = one(_by_id(tables.Milestone, scope))
        self.invoice_by_id = one(_by_id(tables.Invoice, scope))
        self.payment_by_id = one(_by_id(tables.Payment, scope))
        self.person_by_id = one(_by_id(tables.Person, scope))
        self.time_entry_by_id = one(_by_id(tables.TimeEntry, scope))
        self.accounts_by_parent = many(
            _children(tables.Account, "parent_id", scope, ("name", "id"))
        )
        self.contacts_by_account = many(
            _children(tables.Contact, "account_id", scope, ("last_name", "first_name", "id"))
        )
        self.opportunities_by_account = many(
            _children(tables.Opportunity, "account_id", scope, ("close_date", "id"))
        )
        self.engagements_by_account = many(
            _children(tables.Engagement, "account_id", scope, ("start_date", "id"))
        )
        self.projects_by_account = many(
            _children(tables.Project, "account_id", scope, ("code", "id"))
        )
        projects = scope.conditions(tables.table_of(tables.Project))
        self.projects_by_opportunity = many(
            lambda conn, keys: deal_projects.projects_by_opportunity(conn, keys, where=projects)
        )
        self.projects_by_engagement = many(
            _children(tables.Project, "engagement_id", scope, ("code", "id"))
        )
        self.milestones_by_project = many(
            _children(tables.Milestone, "project_id", scope, ("due_date", "id"))
        )
        self.assignments_by_project = many(
            _children(tables.Assignment, "project_id", scope, ("start_date", "id"))
        )
        self.invoices_by_account = many(
            _children(tables.Invoice, "account_id", scope, ("issue_date", "id"))
        )
        self.invoices_by_project = many(
            _children(tables.Invoice, "project_id", scope, ("issue_date", "id"))
        )
        self.payments_by_invoice = many(
            _children(tables.Payment, "invoice_id", scope, ("received_on", "id"))
        )
        self.xrefs_by_account = many(lineage.xrefs_by_account)
        self.project_figures = one(figures.project_figures)
        self.engagement_figures = one(figures.engagement_figures)
        self.health_by_account = one(lambda conn, keys: figures.account_health(conn, keys, today))

    def time_entries_by_project(self, query: TimeEntryQuery) -> _Loader:
        """Projects' entries matching ``query``, keyed by project id.

        One loader per distinct filter, so a batch is still one statement: fields asking for
        different filters (aliases) batch and cache apart.
        """
        loader = self._time_entries.get(query)
        if loader is None:
            fetch = _time_entries(query, self._scope)
            loader = self._time_entries[query] = _Loader(self._engine, fetch, missing=list)
        return loader

    def sync_states(self) -> asyncio.Task[list[Row[Any]]]:
        """The sync state of every source, read at most once per request."""
        if self._sync_states is None:
            self._sync_states = asyncio.ensure_future(self._read_sync_states())
        return self._sync_states

    async def _read_sync_states(self) -> list[Row[Any]]:
        async with self._engine.connect() as conn:
            return await freshness.sync_states(conn)
