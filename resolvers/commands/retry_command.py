"""``retryCommand``: an operator sends a FAILED or DEAD_LETTERED command round again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.command_log import CommandStatus
from resolvers.commands.operator import move_command
from resolvers.context import Context

KIND = "retry_command"
RETRYABLE = (CommandStatus.FAILED, CommandStatus.DEAD_LETTERED)


async def retry_command(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Back to ACCEPTED with its attempts reset (the relay queues it again).

    The last error stays visible until the next attempt replaces it.
    """
    return await move_command(
        ctx,
        KIND,
        key,
        args,
        RETRYABLE,
        CommandStatus.ACCEPTED,
        attempts=0,
        next_attempt_at=None,
        dispatched_at=None,
        completed_at=None,
    )
