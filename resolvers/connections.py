"""Root collections: a validated, keyset-paged slice of a table, with lazy total count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.sql.elements import ColumnElement

from readmodel.reads import pages
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.pagination import PageRequest, encode_cursor, page_request


@dataclass
class RowPage:
    """One page of rows, their cursors, and how to count the whole list on demand."""

    rows: list[Row[Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    table: Table
    conditions: Sequence[ColumnElement[bool]]
    ctx: Context

    async def total_count(self) -> int:
        async with self.ctx.reader.connect() as conn:
            return await pages.count(conn, self.table, self.conditions)


def request_page(ctx: Context, first: int | None, after: str | None, ordering: str) -> PageRequest:
    """``first`` / ``after`` validated against the configured page sizes (every root list)."""
    limits = ctx.limits
    return page_request(
        first,
        after,
        ordering=ordering,
        default=limits.default_page_size,
        maximum=limits.max_page_size,
    )


async def page_of(
    ctx: Context,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    ordering: pages.Ordering,
    first: int | None,
    after: str | None,
) -> RowPage:
    """Validate ``first`` / ``after`` and read one page in ``ordering``."""
    request = request_page(ctx, first, after, f"{table.name}:{ordering.name}")
    conditions = [*conditions, *ctx.scope.conditions(table)]  # the caller's clients only
    try:
        key = None if request.after is None else ordering.coerce(table, request.after)
    except pages.BadKey:
        raise BadUserInput("after: not a valid cursor", argument="after") from None
    async with ctx.reader.connect() as conn:
        rows, has_next = await pages.fetch_page(
            conn, table, conditions, ordering, key, request.first
        )
    name = f"{table.name}:{ordering.name}"
    cursors = [encode_cursor(name, ordering.key_of(r)) for r in rows]
    return RowPage(rows, cursors, has_next, key is not None, table, conditions, ctx)
