"""Reads of handoffs: one by id, the exception queue, and the two handoff KPIs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, and_, select

from readmodel.tables import HandoffStatus, Project, table_of
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.handoffs.loaders import HANDOFFS, loaders_of
from resolvers.ids import KEY, MAX_ID_LENGTH, MAX_KEY

TYPE_NAME = "Handoff"
EXCEPTIONS = (HandoffStatus.WAITING_FOR_DATA, HandoffStatus.FAILED, HandoffStatus.HALTED)
PROJECT = table_of(Project)
ERP = "netsuite"


def to_handoff_id(key: int) -> str:
    return base64.urlsafe_b64encode(f"{TYPE_NAME}:{key}".encode()).decode().rstrip("=")


def handoff_key(global_id: str, argument: str = "id") -> int:
    """The key of a handoff id (canonical form only, as ``resolvers.ids``), or
    ``BadUserInput`` naming the argument."""
    message = f"{argument}: {global_id[:MAX_ID_LENGTH]!r} is not a handoff id"
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        found, _, number = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput(message, argument=argument) from None
    if found != TYPE_NAME or not KEY.fullmatch(number) or int(number) > MAX_KEY:
        raise BadUserInput(message, argument=argument)
    if to_handoff_id(int(number)) != global_id:
        raise BadUserInput(message, argument=argument)
    return int(number)


async def handoff(ctx: Context, global_id: str) -> Row[Any] | None:
    row: Row[Any] | None = await loaders_of(ctx).handoff_by_id.load(handoff_key(global_id))
    return row


async def current(ctx: Context, key: int) -> Row[Any] | None:
    """The handoff's row as it is now, within the caller's scope (no loader: each poll of a
    subscription reads afresh)."""
    stmt = select(HANDOFFS).where(HANDOFFS.c.id == key, *ctx.scope.conditions(HANDOFFS))
    async with ctx.engine.connect() as conn:
        return (await conn.execute(stmt)).first()


async def handoffs(ctx: Context, statuses: list[str] | None, first: int) -> list[Row[Any]]:
    """Handoffs in ``statuses`` (default: the exception queue), longest waiting first."""
    if not 1 <= first <= ctx.limits.max_page_size:
        raise BadUserInput(f"first must be 1 to {ctx.limits.max_page_size}", argument="first")
    wanted = statuses or [s.value for s in EXCEPTIONS]
    h = HANDOFFS.c
    scoped = ctx.scope.conditions(HANDOFFS)
    stmt = (
        select(HANDOFFS)
        .where(h.status.in_(wanted), *scoped)
        .order_by(h.updated_at, h.id)
        .limit(first)
    )
    async with ctx.engine.connect() as conn:
        return list(await conn.execute(stmt))


@dataclass(frozen=True)
class HandoffKpis:
    """Handoffs completed in a period, how many with no exception, and the setup cycle."""

    completed: int
    without_intervention: int
    cycle_hours: list[float]


async def handoff_kpis(ctx: Context, start: date, end: date) -> HandoffKpis:
    """Completed handoffs in [start, end]; cycle = project activated − deal won (the PSA's
    activation time from the read model, else the handoff's completion)."""
    h, p = HANDOFFS.c, PROJECT.c
    since = datetime.combine(start, time(), tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    stmt = (
        select(h.won_at, h.completed_at, h.manual_intervention, p.activated_at)
        .select_from(HANDOFFS)
        .outerjoin(PROJECT, and_(p.source_system == ERP, p.source_id == h.project_source_id))
        .where(
            h.status == HandoffStatus.COMPLETED.value,
            h.completed_at >= since,
            h.completed_at < until,
        )
    )
    async with ctx.engine.connect() as conn:
        rows = list(await conn.execute(stmt))
    cycles = [
        ((r.activated_at or r.completed_at) - r.won_at).total_seconds() / 3600
        for r in rows
        if r.won_at is not None
    ]
    manual = sum(1 for r in rows if r.manual_intervention)
    return HandoffKpis(len(rows), len(rows) - manual, cycles)
