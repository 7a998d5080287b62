"""``cancelHandoff``: stop a handoff that should not go on (the deal was re-opened, a
duplicate). Records already written stay in their systems: cancelling undoes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import HandoffStatus
from resolvers.commands.validation import Checker
from resolvers.context import Context
from resolvers.handoffs.operations import act, cancel, refuse_unless

KIND = "cancel_handoff"
CANCELLABLE = (
    HandoffStatus.WAITING_FOR_DATA,
    HandoffStatus.READY,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.FAILED,
    HandoffStatus.HALTED,
)


async def cancel_handoff(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    async def move(conn: AsyncConnection, row: Row[Any], ctx: Context) -> None:
        refuse_unless(row, CANCELLABLE, "cancelled")
        await cancel(conn, row, ctx)

    return await act(ctx, KIND, key, args, Checker(), move)
