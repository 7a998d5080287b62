"""``resumeHandoff``: supply what was missing (or fix it at the source) and go on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import HandoffStatus, Opportunity, table_of
from resolvers.commands.validation import Checker
from resolvers.context import Context
from resolvers.handoffs.data import handoff_data
from resolvers.handoffs.operations import act, refuse_unless, reopen

KIND = "resume_handoff"
RESUMABLE = (HandoffStatus.WAITING_FOR_DATA, HandoffStatus.HALTED, HandoffStatus.FAILED)
OPPORTUNITY = table_of(Opportunity)


async def resume_handoff(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Merge the supplied data, restart failed steps, and re-check readiness."""
    check = Checker()

    async def move(conn: AsyncConnection, row: Row[Any], ctx: Context) -> None:
        refuse_unless(row, RESUMABLE, "resumed")
        currency = await _currency(conn, row.opportunity_id)
        inputs = handoff_data(check, "data", args.get("data"), currency)
        check.refuse_if_any()
        await reopen(conn, row, ctx, inputs, None)

    return await act(ctx, KIND, key, args, check, move)


async def _currency(conn: AsyncConnection, opportunity_id: int) -> str:
    stmt = select(OPPORTUNITY.c.currency).where(OPPORTUNITY.c.id == opportunity_id)
    return str((await conn.execute(stmt)).scalar_one())
