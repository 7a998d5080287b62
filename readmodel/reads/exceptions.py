"""Integration exceptions for operators: filtered, newest first, keyset-paged.

The table has no ``deleted_at`` (an exception is resolved, never deleted), so it pages with
its own two statements rather than ``reads.pages``, which only returns live canonical rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.reads.pages import Ordering
from readmodel.tables import Account, IdentityDecision, IntegrationException, table_of

EXCEPTIONS = table_of(IntegrationException)
DECISIONS = table_of(IdentityDecision)
ACCOUNTS = table_of(Account)
# By id, newest first: stable while ``last_seen_at`` moves on every retry of a record.
NEWEST_FIRST = Ordering(name="id-desc", columns=("id",), descending=True)


@dataclass(frozen=True)
class ExceptionQuery:
    """Which exceptions: each given tuple is a set of allowed values."""

    statuses: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    systems: tuple[str, ...] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        t = EXCEPTIONS
        wanted = ((t.c.status, self.statuses), (t.c.kind, self.kinds))
        pairs = (*wanted, (t.c.source_system, self.systems))
        return [column.in_(allowed) for column, allowed in pairs if allowed is not None]


async def exception_page(
    conn: AsyncConnection, query: ExceptionQuery, after: tuple[Any, ...] | None, first: int
) -> tuple[list[Row[Any]], bool]:
    """Up to ``first`` exceptions after ``after`` (newest first), and whether more follow."""
    t = EXCEPTIONS
    conditions = query.conditions()
    if after is not None:
        conditions.append(tuple_(t.c.id) < tuple_(*after))
    stmt = _with_decisions().where(*conditions).order_by(t.c.id.desc()).limit(first + 1)
    rows = list(await conn.execute(stmt))
    return rows[:first], len(rows) > first


async def exceptions_by_ids(conn: AsyncConnection, keys: list[int]) -> dict[int, Row[Any]]:
    """The exceptions of ``keys`` (with their decisions), by key; absent keys are left out."""
    stmt = _with_decisions().where(EXCEPTIONS.c.id.in_(keys))
    return {row.id: row for row in await conn.execute(stmt)}


async def exception_count(conn: AsyncConnection, query: ExceptionQuery) -> int:
    """How many exceptions match ``query``."""
    stmt = select(func.count()).select_from(EXCEPTIONS).where(*query.conditions())
    return int((await conn.execute(stmt)).scalar_one())


def _with_decisions() -> Select[Any]:
    """Each exception with its record's identity decision (``decision_*``; null when none)."""
    t, d, a = EXCEPTIONS, DECISIONS, ACCOUNTS
    decided = and_(
        t.c.kind.startswith("identity_", autoescape=True),
        d.c.system == t.c.source_system,
        d.c.object_type == t.c.object_type,
        d.c.source_id == t.c.source_id,
    )
    return (
        select(
            t,
            d.c.action.label("decision_action"),
            d.c.account_id.label("decision_account_id"),
            a.c.name.label("decision_account_name"),
            d.c.command_id.label("decision_command_id"),
            d.c.decided_by.label("decision_by"),
            d.c.decided_role.label("decision_role"),
            d.c.decided_at.label("decision_at"),
            d.c.applied_at.label("decision_applied_at"),
        )
        .outerjoin(d, decided)
        .outerjoin(a, a.c.id == d.c.account_id)
    )
