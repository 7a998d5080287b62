"""Keyset pages over a table: ``WHERE (sort key) > (last key seen) ORDER BY sort key LIMIT n``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Row, String, Table, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

MAX_TEXT = 1000  # a cursor's text key is a column value: names, codes (255 at most)


class BadKey(ValueError):
    """A sort key (from a client's cursor) that does not fit the ordering."""


@dataclass(frozen=True)
class Ordering:
    """A total order over a table: its columns end with the unique ``id``."""

    name: str
    columns: tuple[str, ...]
    descending: bool = False

    def key_of(self, row: Row[Any]) -> tuple[Any, ...]:
        mapping = row._mapping
        return tuple(mapping[c] for c in self.columns)

    def coerce(self, table: Table, key: Sequence[Any]) -> tuple[Any, ...]:
        """Turn a decoded cursor key back into column values, or raise ``BadKey``."""
        if len(key) != len(self.columns):
            raise BadKey("wrong key length")
        pairs = zip(self.columns, key, strict=True)
        return tuple(_coerce(table.c[c].type, v) for c, v in pairs)


def _coerce(column_type: TypeEngine[Any], value: Any) -> Any:
    """A JSON value from a cursor as the column's Python value (types checked, not trusted)."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        if isinstance(column_type, DateTime):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("a cursor's time has its zone")
            return moment
        if isinstance(column_type, Date):
            return date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise BadKey(str(error)) from error
    if isinstance(column_type, Integer) and type(value) is int and -(2**63) <= value < 2**63:
        return value
    if isinstance(column_type, String) and isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    raise BadKey(f"{value!r} does not fit {column_type}")


async def fetch_page(
    conn: AsyncConnection,
    table: Table,
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    after: tuple[Any, ...] | None,
    first: int,
) -> tuple[list[Row[Any]], bool]:
    """Up to ``first`` live rows after ``after`` in ``ordering``, and whether more follow."""
    columns = [table.c[c] for c in ordering.columns]
    conditions = [table.c.deleted_at.is_(None), *where]
    if after is not None:
        key = tuple_(*columns)
        conditions.append(key < tuple_(*after) if ordering.descending else key > tuple_(*after))
    order = [c.desc() if ordering.descending else c.asc() for c in columns]
    stmt = select(table).where(*conditions).order_by(*order).limit(first + 1)
    rows = list(await conn.execute(stmt))
    return rows[:first], len(rows) > first


async def count(conn: AsyncConnection, table: Table, where: Sequence[ColumnElement[bool]]) -> int:
    """How many live rows match ``where``."""
    stmt = select(func.count()).select_from(table).where(table.c.deleted_at.is_(None), *where)
    return int((await conn.execute(stmt)).scalar_one())
