"""``Command``: one write in the command log, as clients and operators see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from clientgraph.telemetry.context import trace_id_of
from readmodel.command_log import CommandStatus
from resolvers.commands import queries
from resolvers.commands.tokens import token_of
from resolvers.context import context_of
from resolvers.ids import to_global_id
from schema.commands.enums import CommandKind, CommandTargetSystem
from schema.commands.enums import CommandStatus as _RegisteredStatus  # noqa: F401
from schema.commands.errors import CommandRejected
from schema.common.types import Node, SourceRef
from schema.enums import SourceSystem


@strawberry.type(description="Why the latest attempt failed, as the target system said.")
class CommandError:
    code: str = strawberry.field(description="The source's or the executor's error code.")
    message: str
    retryable: bool = strawberry.field(
        description="True for a transient failure (another attempt may succeed)."
    )


@strawberry.type(
    description="A write routed to the system that owns the data. It reaches the read model "
    "through sync: send consistencyToken as X-Consistency-Token to read it back."
)
class Command(Node):
    kind: CommandKind = strawberry.field(description="What it does, e.g. update_opportunity.")
    status: CommandStatus = strawberry.field(description="Where it is; the last four are final.")
    target_system: CommandTargetSystem = strawberry.field(
        description="The system it is sent to (the owner)."
    )
    idempotency_key: str = strawberry.field(description="The key it was accepted under.")
    attempts: int = strawberry.field(description="Attempts made at the target system so far.")
    correlation_id: str = strawberry.field(
        description="The caller's X-Correlation-Id (or one made up), carried into logs."
    )
    trace_id: str | None = strawberry.field(
        description="The OpenTelemetry trace (32 hex digits) of the request that accepted it; "
        "the worker's spans and log lines for it carry the same id. Null for commands "
        "accepted before tracing, or by clientgraph itself outside a request."
    )
    last_error: CommandError | None = strawberry.field(
        description="Why the latest attempt failed (kept until another attempt replaces it; "
        "null once the command succeeded)."
    )
    created_at: datetime = strawberry.field(description="When it was accepted.")
    updated_at: datetime = strawberry.field(description="Its last change of any kind.")
    completed_at: datetime | None = strawberry.field(description="When it became final.")
    applied_at: datetime | None = strawberry.field(
        description="When the target system confirmed the write (it is not written again)."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When a waiting command runs again (after a back-off or a source's pause)."
    )
    consistency_token: str = strawberry.field(
        description="Send as header X-Consistency-Token: the query waits until this command "
        "is final (bounded), so it reads its own write."
    )

    @classmethod
    def from_row(cls, row: Any) -> Command:
        error = None
        if row.last_error_code is not None:
            error = CommandError(
                code=row.last_error_code,
                message=row.last_error_message or "",
                retryable=bool(row.last_error_retryable),
            )
        return cls(
            id=strawberry.ID(to_global_id("Command", row.id)),
            row=row,
            kind=CommandKind(row.kind),
            status=CommandStatus(row.status),
            target_system=CommandTargetSystem(row.target_system),
            idempotency_key=row.idempotency_key,
            attempts=row.attempts,
            correlation_id=row.correlation_id,
            trace_id=trace_id_of(getattr(row, "trace_context", None)),
            last_error=error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            applied_at=row.applied_at,
            next_attempt_at=row.next_attempt_at,
            consistency_token=token_of(row.id),
        )

    @strawberry.field(
        description="The record it writes, as the read model holds it (null for a record not "
        "created yet, or not synced yet)."
    )
    async def target(self, info: strawberry.Info) -> SourceRef | None:
        return await _target(self.row, info)

    @strawberry.field(description="The target record's reference, when there is one.")
    async def source_refs(self, info: strawberry.Info) -> list[SourceRef]:
        target = await _target(self.row, info)
        return [] if target is None else [target]


async def _target(row: Any, info: strawberry.Info) -> SourceRef | None:
    """The read model's lineage of the record a command writes (batched per request)."""
    if row.target_source_id is None:
        return None
    key = (row.target_object, row.target_system, row.target_source_id)
    found = await queries.targets(context_of(info)).load(key)
    if found is None:
        return None
    return SourceRef(
        system=SourceSystem(found.source_system),
        object_type=row.target_object,
        source_id=found.source_id,
        version=found.source_version,
        synced_at=found.synced_at,
    )


CommandResult = Annotated[
    Command | CommandRejected,
    strawberry.union("CommandResult", description="The accepted command, or why it was not."),
]
