"""The Core tables the figures read, and the SQL building blocks they share.

Every sum is an integer sum (minor units, hundredths of hours, or their products), so it is
exact and identical on SQLite and PostgreSQL; division happens in Python on ``Decimal``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, Table, case, func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel import tables

ACCOUNT: Table = tables.table_of(tables.Account)
OPPORTUNITY: Table = tables.table_of(tables.Opportunity)
ENGAGEMENT: Table = tables.table_of(tables.Engagement)
PROJECT: Table = tables.table_of(tables.Project)
MILESTONE: Table = tables.table_of(tables.Milestone)
PERSON: Table = tables.table_of(tables.Person)
TIME_ENTRY: Table = tables.table_of(tables.TimeEntry)
CHANGE_ORDER: Table = tables.table_of(tables.ChangeOrder)
INVOICE: Table = tables.table_of(tables.Invoice)
PAYMENT: Table = tables.table_of(tables.Payment)


def live(table: Table) -> ColumnElement[bool]:
    """Rows not soft-deleted."""
    return table.c.deleted_at.is_(None)


def sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[Any]:
    """Σ ``value`` over the rows meeting ``condition``; 0 (not NULL) when there are none."""
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows meet ``condition``."""
    return sum_if(condition, 1)


def as_int(value: Any) -> int:
    """A SQL sum as a Python int (PostgreSQL returns ``numeric`` sums of bigints as Decimal)."""
    return int(value or 0)


async def grouped(conn: AsyncConnection, stmt: Select[Any], key: str) -> dict[Any, Row[Any]]:
    """Run a GROUP BY statement and key its rows by the ``key`` column."""
    return {row._mapping[key]: row for row in await conn.execute(stmt)}


def int_fields(row: Row[Any] | None, *skip: str) -> dict[str, int]:
    """The integer sums of one grouped row, by label (empty when the group had no rows)."""
    if row is None:
        return {}
    return {k: as_int(v) for k, v in row._mapping.items() if k not in skip}
