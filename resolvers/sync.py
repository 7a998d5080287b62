"""Sync's operator-facing reads: the integration exceptions list, per-source freshness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.reads import exceptions
from readmodel.reads.exceptions import NEWEST_FIRST, ExceptionQuery
from readmodel.reads.freshness import SourceState, source_states
from readmodel.reads.pages import BadKey
from resolvers.connections import RowPage, request_page
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.pagination import encode_cursor

LOADER = "exception_loader"
ORDERING = f"{exceptions.EXCEPTIONS.name}:{NEWEST_FIRST.name}"


@dataclass
class ExceptionPage(RowPage):
    """A page of exceptions; counts with the exceptions' own query (they have no tombstones)."""

    query: ExceptionQuery = field(default_factory=ExceptionQuery)

    async def total_count(self) -> int:
        async with self.ctx.engine.connect() as conn:
            return await exceptions.exception_count(conn, self.query)


async def integration_exceptions(
    ctx: Context, first: int | None, after: str | None, query: ExceptionQuery
) -> RowPage:
    """Validate ``first`` / ``after`` and read one page, newest first."""
    request = request_page(ctx, first, after, ORDERING)
    table = exceptions.EXCEPTIONS
    try:
        key = None if request.after is None else NEWEST_FIRST.coerce(table, request.after)
    except BadKey:
        raise BadUserInput("after: not a valid cursor", argument="after") from None
    async with ctx.engine.connect() as conn:
        rows, has_next = await exceptions.exception_page(conn, query, key, request.first)
    cursors = [encode_cursor(ORDERING, NEWEST_FIRST.key_of(r)) for r in rows]
    conditions = query.conditions()
    return ExceptionPage(rows, cursors, has_next, key is not None, table, conditions, ctx, query)


class ExceptionByIdLoader(DataLoader):  # type: ignore[misc]
    """Exceptions by key, one statement per batch (``nodes(ids:)`` asks for many at once)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Row[Any] | None]:
        async with self._engine.connect() as conn:
            found = await exceptions.exceptions_by_ids(conn, list(keys))
        return [found.get(k) for k in keys]


async def integration_exception(ctx: Context, key: int) -> Row[Any] | None:
    """One exception by key, through this request's loader (made on first use). The caller's
    role is checked by the field that asks, as for the ``integrationExceptions`` list."""
    loader = getattr(ctx, LOADER, None)
    if loader is None:
        loader = ExceptionByIdLoader(ctx.engine)
        setattr(ctx, LOADER, loader)
    row: Row[Any] | None = await loader.load(key)
    return row


async def freshness_states(ctx: Context) -> list[SourceState]:
    """Every stored sync state, plus NEVER for each configured object not pulled yet."""
    return source_states(await ctx.loaders.sync_states(), ctx.sync_objects)
