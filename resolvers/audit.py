"""Writing and reading the audit log from a request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from readmodel import audit
from readmodel.audit import AuditQuery, Entry, Outcome
from readmodel.command_intake import Audited
from resolvers import inputs
from resolvers.commands.accept import PENDING_AUDIT, PendingAudit, correlation_id
from resolvers.commands.queries import id_of_cursor
from resolvers.connections import RowPage, request_page
from resolvers.context import Context
from resolvers.pagination import encode_cursor

ORDERING = "audit:newest"


class Audit:
    """The audit entry of one mutation call, written once its outcome is known — by the
    statement that logs the call's command when it logs one (``calling``)."""

    def __init__(self, ctx: Context, operation: str, arguments: Mapping[str, Any]) -> None:
        self._ctx = ctx
        self._operation = operation
        self._digest = audit.digest(arguments)
        self._pending = PendingAudit(Audited(operation, self._digest))

    @contextmanager
    def calling(self) -> Iterator[None]:
        """While the mutation runs: a command it logs carries this entry (its ACCEPTED)."""
        token = PENDING_AUDIT.set(self._pending)
        try:
            yield
        finally:
            PENDING_AUDIT.reset(token)

    async def accepted(self, command_id: int) -> None:
        if not self._pending.written:  # a replay, an operator's action: written here
            await self._write(Outcome.ACCEPTED, command_id=command_id)

    async def rejected(self, code: str) -> None:
        await self._write(Outcome.REJECTED, code=code)

    async def forbidden(self) -> None:
        await self._write(Outcome.FORBIDDEN, code="FORBIDDEN")

    async def _write(self, outcome: str, **extra: Any) -> None:
        ctx, principal = self._ctx, self._ctx.principal
        entry = Entry(
            at=ctx.now,
            actor_id=principal.id,
            actor_role=principal.role.value,
            credential_id=principal.credential_id,
            operation=self._operation,
            outcome=outcome,
            input_digest=self._digest,
            correlation_id=correlation_id(ctx),
            **extra,
        )
        await audit.record(ctx.engine, entry)


@dataclass
class AuditPage(RowPage):
    query: AuditQuery = field(default_factory=AuditQuery)

    async def total_count(self) -> int:
        async with self.ctx.engine.connect() as conn:
            return await audit.count(conn, self.query)


async def audit_log(
    ctx: Context, first: int | None, after: str | None, query: AuditQuery
) -> RowPage:
    """One page of the audit log, newest first."""
    _check_text(query)
    request = request_page(ctx, first, after, ORDERING)
    before = None if request.after is None else id_of_cursor(request.after)
    async with ctx.engine.connect() as conn:
        rows, has_next = await audit.page(conn, query, before, request.first)
    cursors = [encode_cursor(ORDERING, (r.id,)) for r in rows]
    conditions = query.conditions()
    return AuditPage(
        rows, cursors, has_next, before is not None, audit.AUDIT, conditions, ctx, query
    )


def _check_text(query: AuditQuery) -> None:
    """The filter's text as every filter's (``resolvers.inputs.text``): bounded, no NUL."""
    for operation in query.operations or ():
        inputs.text(operation, "filter.operation")
    for outcome in query.outcomes or ():
        inputs.text(outcome, "filter.outcome")
    inputs.text(query.actor_id, "filter.actorId")
