"""Small bounded reads for ``/metrics`` and ``/readyz``: open work, never the whole history.

Each query is bounded by what is still open (commands not yet SUCCEEDED or CANCELLED, through
the ``(status, next_attempt_at)`` index; open exceptions; handoffs waiting), not by how much
history the tables hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import Command, Handoff, IntegrationException, table_of

OPEN_COMMAND_STATUSES = ("ACCEPTED", "DISPATCHED", "RUNNING", "APPLIED", "FAILED", "DEAD_LETTERED")
"""Statuses counted on a scrape: the work in flight and what waits for an operator."""
WAITING_HANDOFFS = ("WAITING_FOR_DATA", "READY", "IN_PROGRESS", "FAILED", "HALTED")


@dataclass(frozen=True)
class OpenWork:
    """Counts of the open work: commands by status, exceptions by kind, handoffs by status."""

    commands: dict[str, int]
    oldest_accepted_at: datetime | None
    exceptions: dict[tuple[str, str], int]
    handoffs: dict[str, int]


async def open_work(conn: AsyncConnection) -> OpenWork:
    """The open work in the read model, in four grouped queries."""
    return OpenWork(
        commands=await _commands(conn),
        oldest_accepted_at=await _oldest_accepted(conn),
        exceptions=await _exceptions(conn),
        handoffs=await _handoffs(conn),
    )


async def _commands(conn: AsyncConnection) -> dict[str, int]:
    t = table_of(Command)
    query = (
        select(t.c.status, func.count())
        .where(t.c.status.in_(OPEN_COMMAND_STATUSES))
        .group_by(t.c.status)
    )
    counts = {status: 0 for status in OPEN_COMMAND_STATUSES}
    counts.update({row[0]: int(row[1]) for row in await conn.execute(query)})
    return counts


async def _oldest_accepted(conn: AsyncConnection) -> datetime | None:
    t = table_of(Command)
    query = select(func.min(t.c.created_at)).where(t.c.status == "ACCEPTED")
    value: Any = (await conn.execute(query)).scalar()
    return value if isinstance(value, datetime) else None


async def _exceptions(conn: AsyncConnection) -> dict[tuple[str, str], int]:
    t = table_of(IntegrationException)
    query = (
        select(t.c.source_system, t.c.kind, func.count())
        .where(t.c.status == "open")
        .group_by(t.c.source_system, t.c.kind)
    )
    return {(row[0], row[1]): int(row[2]) for row in await conn.execute(query)}


async def _handoffs(conn: AsyncConnection) -> dict[str, int]:
    t = table_of(Handoff)
    query = (
        select(t.c.status, func.count())
        .where(t.c.status.in_(WAITING_HANDOFFS))
        .group_by(t.c.status)
    )
    counts = {status: 0 for status in WAITING_HANDOFFS}
    counts.update({row[0]: int(row[1]) for row in await conn.execute(query)})
    return counts
