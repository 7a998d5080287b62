"""Batched row lookups by id and by parent key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, select
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
) -> dict[int, list[Row[Any]]]:
    """Live rows of ``table`` grouped by ``parent_column``, each group in ``order_by`` order."""
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    if not parent_ids:
        return grouped
    column = table.c[parent_column]
    stmt = (
        select(table)
        .where(column.in_(set(parent_ids)), table.c.deleted_at.is_(None), *where)
        .order_by(*(table.c[name] for name in order_by))
    )
    for row in await conn.execute(stmt):
        grouped[row._mapping[parent_column]].append(row)
    return grouped
