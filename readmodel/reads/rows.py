"""Batched row lookups by id and by parent key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement


async def by_ids(
    conn: AsyncConnection,
    table: Table,
    ids: Sequence[int],
    *,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[int, Row[Any]]:
    """Live rows of ``table`` with the given ids (and ``where``), keyed by id (others absent)."""
    if not ids:
        return {}
    stmt = select(table).where(table.c.id.in_(set(ids)), table.c.deleted_at.is_(None), *where)
    return {row.id: row for row in await conn.execute(stmt)}


async def by_parent(
    conn: AsyncConnection,
    table: Table,
    parent_column: str,
    parent_ids: Sequence[int],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[str] = ("id",),
    limit: int | None = None,
) -> dict[int, list[Row[Any]]]:
    """Live rows of ``table`` grouped by ``parent_column``, each group in ``order_by`` order
    and, with ``limit``, its first ``limit`` rows only (a window function ranks each group, so
    one statement serves the whole batch however large a group is)."""
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    if not parent_ids:
        return grouped
    column = table.c[parent_column]
    conditions = (column.in_(set(parent_ids)), table.c.deleted_at.is_(None), *where)
    ordering = [table.c[name] for name in order_by]
    if limit is None:
        stmt = select(table).where(*conditions).order_by(*ordering)
    else:
        rank = func.row_number().over(partition_by=column, order_by=ordering)
        ranked = select(table, rank.label("rank_in_parent")).where(*conditions).subquery()
        stmt = (
            select(*(ranked.c[c.name] for c in table.columns))
            .where(ranked.c.rank_in_parent <= limit)
            .order_by(ranked.c[parent_column], *(ranked.c[name] for name in order_by))
        )
    for row in await conn.execute(stmt):
        grouped[row._mapping[parent_column]].append(row)
    return grouped


Following = tuple[int | None, list[Row[Any]]]
"""(the parent whose list holds the cursor row, or None; the rows after it)."""


async def after_in_parent(
    conn: AsyncConnection,
    table: Table,
    parent_column: str,
    parent_ids: Sequence[int],
    after: int,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    only: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[str] = ("id",),
    limit: int | None = None,
) -> Following:
    """The live rows that follow row ``after`` in its parent's list (``order_by`` ends with
    the id, so the keyset ``(order_by) > (after's)`` is exact), at most ``limit``.

    One statement: the cursor row (live, within ``where`` and under one of ``parent_ids``) is
    a CTE left-joined to the rows after it, so "the cursor names no row of these lists" (no
    result row) differs from "nothing follows it" (one row of nulls). The cursor row must
    pass ``where`` (the caller's row rules) but not ``only`` (the list's filters): a client
    may filter differently from one page to the next and the keyset is still exact.
    """
    if not parent_ids:
        return None, []
    column = table.c[parent_column]
    live = (table.c.deleted_at.is_(None), *where)
    cursor = (
        select(column.label("cursor_parent"), *(table.c[name] for name in order_by))
        .where(table.c.id == after, column.in_(set(parent_ids)), *live)
        .cte("cursor")
    )
    keyset = tuple_(*(table.c[n] for n in order_by)) > tuple_(*(cursor.c[n] for n in order_by))
    ordering = [table.c[name] for name in order_by]
    rank = func.row_number().over(order_by=ordering).label("rank_in_parent")
    ranked = (
        select(table, rank)
        .join(cursor, column == cursor.c.cursor_parent)
        .where(keyset, *live, *only)
        .subquery()
    )
    joined = true() if limit is None else ranked.c.rank_in_parent <= limit
    stmt = (
        select(cursor.c.cursor_parent, *(ranked.c[c.name] for c in table.columns))
        .select_from(cursor.outerjoin(ranked, joined))
        .order_by(*(ranked.c[name] for name in order_by))
    )
    found: list[Row[Any]] = []
    parent: int | None = None
    for row in await conn.execute(stmt):
        parent = row.cursor_parent
        if row.id is not None:
            found.append(row)
    return parent, found
