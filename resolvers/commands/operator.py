"""What ``retryCommand`` and ``cancelCommand`` share: a guarded move, logged with its key.

An operator's action is itself a row of the command log (kind ``retry_command`` /
``cancel_command``, target system ``clientgraph``, SUCCEEDED at once), written in the same
transaction as the move it makes: a replay with the same key finds that row and answers the
target command as it is now, instead of acting twice; a refused move rolls both back, so a
refusal does not use the key up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Row

from readmodel import command_log
from readmodel.command_log import CommandStatus, NewCommand
from resolvers.commands.accept import asked_by, correlation_id, hand_off, replay
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.validation import Checker
from resolvers.context import Context

OPERATOR_SYSTEM = "clientgraph"
OPERATOR_KINDS = frozenset(  # never retried or cancelled
    {
        "retry_command",
        "cancel_command",
        "link_identity",
        "create_identity_account",
        "ignore_identity",
    }
)


async def move_command(
    ctx: Context,
    kind: str,
    key: str,
    args: Mapping[str, Any],
    allowed: Collection[CommandStatus],
    to_status: CommandStatus,
    **fields: Any,
) -> Row[Any]:
    """Move the command ``args["command_id"]`` from one of ``allowed`` to ``to_status``."""
    check = Checker()
    check.idempotency_key(key)
    command_id = check.key("commandId", args["command_id"], "Command")
    check.refuse_if_any()
    assert command_id is not None
    action = operator_action(ctx, kind, key, args, "command", command_id)
    async with ctx.engine.begin() as conn:
        logged = await command_log.insert_or_fetch(
            conn, action, now=ctx.now, status=CommandStatus.SUCCEEDED
        )
        if not logged.created:
            replay(logged.row, action.input_hash)
        else:
            await _move(conn, command_id, allowed, to_status, ctx, fields)
        row = await command_log.get(conn, command_id)
    assert row is not None
    if logged.created and to_status == CommandStatus.ACCEPTED:
        hand_off(ctx, command_id)
    return row


async def _move(
    conn: Any,
    command_id: int,
    allowed: Collection[CommandStatus],
    to_status: CommandStatus,
    ctx: Context,
    fields: dict[str, Any],
) -> None:
    current = await command_log.get(conn, command_id)
    if current is None or current.kind in OPERATOR_KINDS:
        raise CommandRefused(RefusalCode.NOT_FOUND, "commandId: no such command")
    if not await command_log.transition(
        conn, command_id, allowed, to_status, now=ctx.now, **fields
    ):
        names = " or ".join(sorted(allowed))
        raise CommandRefused(
            RefusalCode.INVALID_TRANSITION,
            f"only {names} commands can become {to_status} (this one is {current.status})",
        )


def operator_action(
    ctx: Context, kind: str, key: str, args: Mapping[str, Any], target: str, target_id: int
) -> NewCommand:
    """An operator's action (retry, cancel, resume …) logged as a command of clientgraph's own,
    so its idempotency key replays like any mutation's."""
    return NewCommand(
        kind=kind,
        target_system=OPERATOR_SYSTEM,
        target_object=target,
        target_source_id=str(target_id),
        idempotency_key=key,
        input_hash=command_log.input_hash(kind, args),
        payload={f"{target}_id": str(target_id)},
        correlation_id=correlation_id(ctx),
        **asked_by(ctx),
    )
