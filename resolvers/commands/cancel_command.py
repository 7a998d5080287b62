"""``cancelCommand``: an operator withdraws a command that no worker has started, or gives
up on one that failed (it leaves the exception queue and the dead-letter count)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.command_log import CommandStatus
from resolvers.commands.operator import move_command
from resolvers.context import Context

KIND = "cancel_command"
CANCELLABLE = (
    CommandStatus.ACCEPTED,
    CommandStatus.DISPATCHED,
    CommandStatus.FAILED,
    CommandStatus.DEAD_LETTERED,
)


async def cancel_command(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """ACCEPTED, DISPATCHED, FAILED or DEAD_LETTERED → CANCELLED; a RUNNING write cannot be
    recalled from the source, and an APPLIED one is already there.

    A job already queued for it still starts, finds it CANCELLED and must do nothing: the
    executor's move to RUNNING is a transition guarded on ACCEPTED / DISPATCHED.
    """
    return await move_command(ctx, KIND, key, args, CANCELLABLE, CommandStatus.CANCELLED)
