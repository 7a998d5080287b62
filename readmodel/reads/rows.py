"""Batched row lookups by id and by parent key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, func, select
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
