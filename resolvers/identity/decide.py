"""What ``linkIdentity``, ``createIdentityAccount`` and ``ignoreIdentity`` share.

The decision is an operator's action (``resolvers.commands.operator``): a command of
clientgraph's own, SUCCEEDED at once, logged in the same transaction as the
``identity_decision`` row it writes, so a replay with the same key answers that command and
a refusal uses nothing up. The read model is not touched here: the next sync of the record
applies the decision (``sync_jobs/identity_decisions.py``), and resolves the exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel import command_log
from readmodel.command_log import CommandStatus
from readmodel.reads import rows
from readmodel.tables import Account, IntegrationException, table_of
from resolvers.commands.accept import replay
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.operator import operator_action
from resolvers.commands.validation import Checker
from resolvers.context import Context
from sync_jobs.exceptions import IDENTITY_KINDS, OPEN
from sync_jobs.identity_decisions import LINK, Decision, decided_before, record_decision

EXCEPTIONS = table_of(IntegrationException)
ACCOUNTS = table_of(Account)


async def decide(
    ctx: Context, kind: str, key: str, args: Mapping[str, Any], action: str
) -> Row[Any]:
    """Record ``action`` on the identity exception ``args["integration_exception_id"]``."""
    check = Checker()
    check.idempotency_key(key)
    exception_id = check.key(
        "integrationExceptionId", args["integration_exception_id"], "IntegrationException"
    )
    account_id = check.key("accountId", args["account_id"], "Account") if action == LINK else None
    check.refuse_if_any()
    assert exception_id is not None
    command = operator_action(ctx, kind, key, args, "integration_exception", exception_id)
    async with ctx.engine.begin() as conn:
        logged = await command_log.insert_or_fetch(
            conn, command, now=ctx.now, status=CommandStatus.SUCCEEDED
        )
        if not logged.created:
            return replay(logged.row, command.input_hash)
        exception = await _decidable(conn, exception_id)
        if account_id is not None:
            await _live_account(conn, account_id)
        decision = Decision(
            system=exception.source_system,
            object_type=exception.object_type,
            source_id=exception.source_id,
            action=action,
            account_id=account_id,
            exception_id=exception_id,
            command_id=logged.row.id,
            decided_by=ctx.principal.id,
            decided_role=ctx.principal.role.value,
            decided_at=ctx.now,
        )
        await record_decision(conn, decision)
    return logged.row


async def _decidable(conn: AsyncConnection, exception_id: int) -> Row[Any]:
    """An identity exception that is open, or already decided (a change of mind)."""
    stmt = select(EXCEPTIONS).where(EXCEPTIONS.c.id == exception_id)
    row = (await conn.execute(stmt)).one_or_none()
    if row is None:
        raise CommandRefused(RefusalCode.NOT_FOUND, "integrationExceptionId: no such exception")
    if row.kind not in IDENTITY_KINDS:
        raise CommandRefused(
            RefusalCode.INVALID_TRANSITION,
            f"only identity exceptions take a decision (this one is {row.kind})",
        )
    if row.status != OPEN and not await decided_before(conn, row.source_system, row.source_id):
        raise CommandRefused(
            RefusalCode.INVALID_TRANSITION, "this exception is resolved: sync settled it"
        )
    return row


async def _live_account(conn: AsyncConnection, account_id: int) -> None:
    if account_id not in await rows.by_ids(conn, ACCOUNTS, [account_id]):
        raise CommandRefused(RefusalCode.NOT_FOUND, "accountId: no such account")
