"""The audit log: one row per mutation, operator action and key change, newest first."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from readmodel.db import autocommit
from readmodel.tables import AuditEntry, table_of

AUDIT = table_of(AuditEntry)


class Outcome:
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FORBIDDEN = "FORBIDDEN"
    CREATED = "CREATED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class Entry:
    """What one audited act records."""

    at: datetime
    actor_id: str
    actor_role: str
    operation: str
    outcome: str
    credential_id: str | None = None
    input_digest: str | None = None
    command_id: int | None = None
    code: str | None = None
    correlation_id: str | None = None


def digest(value: Mapping[str, Any]) -> str:
    """SHA-256 of the input as canonical JSON (sorted keys; non-JSON values as text)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def record(engine: AsyncEngine, entry: Entry) -> None:
    """One INSERT, its own transaction (one round trip)."""
    async with autocommit(engine) as conn:
        await record_on(conn, entry)


async def record_on(conn: AsyncConnection, entry: Entry) -> None:
    """The INSERT of ``entry`` on the caller's connection (its transaction)."""
    await conn.execute(insert(AUDIT).values(**entry.__dict__))


@dataclass(frozen=True)
class AuditQuery:
    operations: tuple[str, ...] | None = None
    actor_id: str | None = None
    outcomes: tuple[str, ...] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        c = AUDIT.c
        out: list[ColumnElement[bool]] = []
        if self.operations is not None:
            out.append(c.operation.in_(self.operations))
        if self.outcomes is not None:
            out.append(c.outcome.in_(self.outcomes))
        if self.actor_id is not None:
            out.append(c.actor_id == self.actor_id)
        return out


async def page(
    conn: AsyncConnection, query: AuditQuery, before_id: int | None, first: int
) -> tuple[list[Row[Any]], bool]:
    """Up to ``first`` entries older than ``before_id``, newest first; and whether more follow."""
    conditions = query.conditions()
    if before_id is not None:
        conditions.append(AUDIT.c.id < before_id)
    stmt = select(AUDIT).where(*conditions).order_by(AUDIT.c.id.desc()).limit(first + 1)
    rows = list(await conn.execute(stmt))
    return rows[:first], len(rows) > first


async def count(conn: AsyncConnection, query: AuditQuery) -> int:
    stmt = select(func.count()).select_from(AUDIT).where(*query.conditions())
    return int((await conn.execute(stmt)).scalar_one())
