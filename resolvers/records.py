"""Single records by global id, and the root collections' filtered pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlmodel import SQLModel

from readmodel.reads.filters import AccountQuery, InvoiceQuery, ProjectQuery
from readmodel.reads.pages import Ordering
from readmodel.tables import (
    Account,
    Contact,
    Engagement,
    Invoice,
    Milestone,
    Opportunity,
    Project,
    table_of,
)
from resolvers import sync
from resolvers.access import allowed
from resolvers.connections import RowPage, page_of
from resolvers.context import Context
from resolvers.errors import NotFound
from resolvers.handoffs.loaders import loaders_of
from resolvers.ids import from_global_id, key_of

LOADER_OF_TYPE = {
    "Account": "account_by_id",
    "Contact": "contact_by_id",
    "Opportunity": "opportunity_by_id",
    "Engagement": "engagement_by_id",
    "Project": "project_by_id",
    "Milestone": "milestone_by_id",
    "Invoice": "invoice_by_id",
    "Payment": "payment_by_id",
    "Person": "person_by_id",
    "TimeEntry": "time_entry_by_id",
}
PROJECT_ORDER = Ordering(name="code", columns=("code", "id"))
INVOICE_ORDER = Ordering(name="due-date", columns=("due_date", "id"))
LISTS: dict[str, tuple[type[SQLModel], Ordering]] = {
    "Contact": (Contact, Ordering(name="last-name", columns=("last_name", "id"))),
    "Opportunity": (Opportunity, Ordering(name="close-date", columns=("close_date", "id"))),
    "Engagement": (Engagement, Ordering(name="name", columns=("name", "id"))),
    "Milestone": (Milestone, Ordering(name="due-date", columns=("due_date", "id"))),
}
"""The root lists without a filter: the type's table and its default order (ids break ties;
``orderBy`` picks another)."""
ROLE_GATED = {"Handoff": "handoff", "IntegrationException": "integrationExceptions"}
"""Node types not every role may read, each with the root field whose rule ``node(id:)`` and
``nodes(ids:)`` follow: for another role their ids read as ids that name nothing."""


async def record(ctx: Context, global_id: str, type_name: str) -> Row[Any]:
    """The live row an id of ``type_name`` names; ``BadUserInput`` / ``NotFound`` otherwise."""
    key = key_of(global_id, type_name)
    return await _load(ctx, type_name, key, global_id)


async def any_record(ctx: Context, global_id: str) -> tuple[str, Row[Any]]:
    """The type and row of any node id."""
    type_name, key = from_global_id(global_id)
    return type_name, await _load(ctx, type_name, key, global_id)


async def _load(ctx: Context, type_name: str, key: int, global_id: str) -> Row[Any]:
    row = await _gated(ctx, type_name, key) if type_name in ROLE_GATED else None
    if type_name in LOADER_OF_TYPE:
        row = await getattr(ctx.loaders, LOADER_OF_TYPE[type_name]).load(key)
    if row is None:
        raise NotFound(f"no {type_name} with id {global_id!r}", type=type_name)
    return row


async def _gated(ctx: Context, type_name: str, key: int) -> Row[Any] | None:
    """A handoff (in the caller's row scope) or an exception, if the caller's role may use
    the root field of its type; ``None`` otherwise."""
    if not allowed(ctx, "query", ROLE_GATED[type_name]):
        return None
    if type_name == "Handoff":
        row: Row[Any] | None = await loaders_of(ctx).handoff_by_id.load(key)
        return row
    return await sync.integration_exception(ctx, key)


async def accounts(
    ctx: Context, first: int | None, after: str | None, query: AccountQuery, ordering: Ordering
) -> RowPage:
    return await page_of(ctx, table_of(Account), query.conditions(), ordering, first, after)


async def listing(
    ctx: Context,
    type_name: str,
    first: int | None,
    after: str | None,
    ordering: Ordering | None = None,
) -> RowPage:
    """A page of one of ``LISTS`` in ``ordering`` (default: the list's own), within the
    caller's row scope."""
    table, default = LISTS[type_name]
    return await page_of(ctx, table_of(table), (), ordering or default, first, after)


async def projects(
    ctx: Context,
    first: int | None,
    after: str | None,
    query: ProjectQuery,
    ordering: Ordering = PROJECT_ORDER,
) -> RowPage:
    return await page_of(ctx, table_of(Project), query.conditions(), ordering, first, after)


async def invoices(
    ctx: Context,
    first: int | None,
    after: str | None,
    query: InvoiceQuery,
    ordering: Ordering = INVOICE_ORDER,
) -> RowPage:
    conditions = query.conditions(ctx.today)
    return await page_of(ctx, table_of(Invoice), conditions, ordering, first, after)
