"""DataLoaders: one batch of keys → one SQL statement. Created per request, never shared.

The number of statements a request runs depends on the shape of its query (how many distinct
fields and levels), not on how many rows each list holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

import readmodel.figures as figures
from readmodel import tables
from readmodel.reads import deal_projects, freshness, lineage, rows
from readmodel.reads.scope import EVERYTHING, RowScope
from readmodel.reads.time_entries import (
    TIME_ENTRIES_PER_PROJECT,
    TimeEntryQuery,
    time_entries_by_project,
)
from readmodel.request_connection import Reads

T = TypeVar("T")
Batch = Callable[[AsyncConnection, Sequence[int]], Awaitable[dict[int, Any]]]


class _Loader(DataLoader):  # type: ignore[misc]
    """Runs ``fetch(conn, keys)`` once per batch on a pooled connection."""

    def __init__(self, engine: Reads, fetch: Batch, *, missing: Any = None) -> None:
        super().__init__()
        self._engine = engine
        self._fetch = fetch
        self._missing = missing

    def load(self, key: Any) -> asyncio.Future[Any]:
        """The key's shared (cached) future, shielded: when graphql-core cancels one field
        (a sibling in its list failed), the fields still awaiting the same key get its value,
        not a CancelledError that would end the whole request."""
        return asyncio.shield(super().load(key))

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            found = await self._fetch(conn, keys)
        missing = self._missing
        return [found.get(k, missing() if callable(missing) else missing) for k in keys]


def _by_id(model: Any, scope: RowScope) -> Batch:
    t = tables.table_of(model)
    where = scope.conditions(t)
    return lambda conn, keys: rows.by_ids(conn, t, keys, where=where)


@dataclass(frozen=True)
class Children:
    """A list under a parent: the child table, its parent column, its order."""

    model: Any
    parent: str
    order_by: tuple[str, ...]


CHILDREN: dict[str, Children] = {
    "accounts_by_parent": Children(tables.Account, "parent_id", ("name", "id")),
    "contacts_by_account": Children(
        tables.Contact, "account_id", ("last_name", "first_name", "id")
    ),
    "opportunities_by_account": Children(tables.Opportunity, "account_id", ("close_date", "id")),
    "engagements_by_account": Children(tables.Engagement, "account_id", ("start_date", "id")),
    "projects_by_account": Children(tables.Project, "account_id", ("code", "id")),
    "projects_by_engagement": Children(tables.Project, "engagement_id", ("code", "id")),
    "milestones_by_project": Children(tables.Milestone, "project_id", ("due_date", "id")),
    "assignments_by_project": Children(tables.Assignment, "project_id", ("start_date", "id")),
    "invoices_by_account": Children(tables.Invoice, "account_id", ("issue_date", "id")),
    "invoices_by_project": Children(tables.Invoice, "project_id", ("issue_date", "id")),
    "payments_by_invoice": Children(tables.Payment, "invoice_id", ("received_on", "id")),
}
"""Every child list a field can ask for, by loader name."""

Filter = tuple[tuple[str, tuple[Any, ...]], ...]
"""Column → allowed values, as a hashable key (e.g. ``(("status", ("posted",)),)``)."""


def _children(spec: Children, scope: RowScope, first: int | None, only: Filter) -> Batch:
    t = tables.table_of(spec.model)
    where = [*scope.conditions(t), *(t.c[column].in_(values) for column, values in only)]
    return lambda conn, keys: rows.by_parent(
        conn, t, spec.parent, keys, where=where, order_by=spec.order_by, limit=first
    )


def _following(
    spec: Children, scope: RowScope, first: int | None, only: Filter, after: int
) -> Batch:
    t = tables.table_of(spec.model)
    where = scope.conditions(t)
    filters = [t.c[column].in_(values) for column, values in only]

    async def fetch(conn: AsyncConnection, keys: Sequence[int]) -> dict[int, Any]:
        parent, found = await rows.after_in_parent(
            conn,
            t,
            spec.parent,
            keys,
            after,
            where=where,
            only=filters,
            order_by=spec.order_by,
            limit=first,
        )
        return {} if parent is None else {parent: found}

    return fetch


def _time_entries(query: TimeEntryQuery, scope: RowScope, first: int) -> Batch:
    where = scope.conditions(tables.table_of(tables.TimeEntry))
    return lambda conn, keys: time_entries_by_project(conn, keys, query, where=where, limit=first)


class Loaders:
    """Every loader a request may use, named ``<thing>_by_<key>``.

    Every row loader reads within ``scope`` (the caller's clients): a row outside it loads as
    missing. Figures are keyed by a project, engagement or account the caller could load.
    """

    def __init__(self, engine: Reads, today: date, scope: RowScope = EVERYTHING) -> None:
        self._engine = engine
        self._today = today
        self._scope = scope
        self._sync_states: asyncio.Task[list[Row[Any]]] | None = None
        self._time_entries: dict[tuple[TimeEntryQuery, int], _Loader] = {}
        self._children: dict[tuple[str, int | None, Filter, int | None], _Loader] = {}
        self._keyed: dict[str, _Loader] = {}

    # Each loader is made on first use (a request uses few of them; a mutation none).

    def _one(self, fetch: Batch) -> _Loader:
        return _Loader(self._engine, fetch)

    def _many(self, fetch: Batch) -> _Loader:
        return _Loader(self._engine, fetch, missing=list)

    @cached_property
    def account_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Account, self._scope))

    @cached_property
    def contact_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Contact, self._scope))

    @cached_property
    def opportunity_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Opportunity, self._scope))

    @cached_property
    def engagement_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Engagement, self._scope))

    @cached_property
    def project_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Project, self._scope))

    @cached_property
    def milestone_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Milestone, self._scope))

    @cached_property
    def invoice_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Invoice, self._scope))

    @cached_property
    def payment_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Payment, self._scope))

    @cached_property
    def person_by_id(self) -> _Loader:
        return self._one(_by_id(tables.Person, self._scope))

    @cached_property
    def time_entry_by_id(self) -> _Loader:
        return self._one(_by_id(tables.TimeEntry, self._scope))

    @cached_property
    def projects_by_opportunity(self) -> _Loader:
        projects = self._scope.conditions(tables.table_of(tables.Project))
        return self._many(
            lambda conn, keys: deal_projects.projects_by_opportunity(conn, keys, where=projects)
        )

    @cached_property
    def xrefs_by_account(self) -> _Loader:
        return self._many(lineage.xrefs_by_account)

    @cached_property
    def project_figures(self) -> _Loader:
        return self._one(figures.project_figures)

    @cached_property
    def engagement_figures(self) -> _Loader:
        return self._one(figures.engagement_figures)

    @cached_property
    def health_by_account(self) -> _Loader:
        today = self._today
        return self._one(lambda conn, keys: figures.account_health(conn, keys, today))

    def children(
        self, name: str, first: int | None = None, only: Filter = (), after: int | None = None
    ) -> _Loader:
        """The loader of list ``name`` (see ``CHILDREN``): each parent's first ``first`` rows
        among those whose columns hold one of the ``only`` values — with ``after`` (a child's
        key), those that follow that child in its parent's list; every other parent (whose
        list does not hold ``after``, as the caller may see it) loads as None.

        One loader per distinct (list, first, filter, after), so a batch is still one
        statement and aliases asking for different pages batch and cache apart.
        """
        key = (name, first, only, after)
        loader = self._children.get(key)
        if loader is None:
            spec = CHILDREN[name]
            if after is None:
                fetch = _children(spec, self._scope, first, only)
                loader = _Loader(self._engine, fetch, missing=list)
            else:
                loader = _Loader(self._engine, _following(spec, self._scope, first, only, after))
            self._children[key] = loader
        return loader

    def keyed(self, name: str, make: Callable[[], Batch]) -> DataLoader:
        """Another domain's loader ``name`` (the forecasts'), made with ``make()`` on first use:
        it lives as long as these loaders (a WebSocket operation renews them); a key its batch
        does not return loads as None."""
        loader = self._keyed.get(name)
        if loader is None:
            loader = self._keyed[name] = _Loader(self._engine, make())
        return loader

    def time_entries_by_project(
        self, query: TimeEntryQuery, first: int = TIME_ENTRIES_PER_PROJECT
    ) -> _Loader:
        """Projects' newest ``first`` entries matching ``query``, keyed by project id.

        One loader per distinct filter, so a batch is still one statement: fields asking for
        different filters (aliases) batch and cache apart.
        """
        loader = self._time_entries.get((query, first))
        if loader is None:
            fetch = _time_entries(query, self._scope, first)
            loader = self._time_entries[query, first] = _Loader(self._engine, fetch, missing=list)
        return loader

    def sync_states(self) -> asyncio.Task[list[Row[Any]]]:
        """The sync state of every source, read at most once per request."""
        if self._sync_states is None:
            self._sync_states = asyncio.ensure_future(self._read_sync_states())
        return self._sync_states

    async def _read_sync_states(self) -> list[Row[Any]]:
        async with self._engine.connect() as conn:
            return await freshness.sync_states(conn)
