"""``retryHandoffStep``: run a failed step again, as a new command from today's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import HandoffStatus, StepStatus
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.validation import Checker
from resolvers.context import Context
from resolvers.handoffs.loaders import STEPS
from resolvers.handoffs.operations import act, refuse_unless, reopen

KIND = "retry_handoff_step"
RETRYABLE = (HandoffStatus.FAILED, HandoffStatus.HALTED)


async def retry_handoff_step(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """The named step, if it FAILED, starts a new attempt (its records are found again by
    their external ids, so a half-done first attempt is completed, not duplicated)."""
    step = str(args["step"])

    async def move(conn: AsyncConnection, row: Row[Any], ctx: Context) -> None:
        refuse_unless(row, RETRYABLE, "retried")
        stmt = select(STEPS.c.status).where(STEPS.c.handoff_id == row.id, STEPS.c.name == step)
        if (await conn.execute(stmt)).scalar_one_or_none() != StepStatus.FAILED.value:
            raise CommandRefused(
                RefusalCode.INVALID_TRANSITION, f"step: {step} has not failed, nothing to retry"
            )
        await reopen(conn, row, ctx, {}, step)

    return await act(ctx, KIND, key, args, Checker(), move)
