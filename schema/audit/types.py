"""The audit log as the graph shows it (operators and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers.ids import to_global_id


@strawberry.type(description="One mutation, operator action or API key change, and its end.")
class AuditEntry:
    at: datetime
    actor_id: str = strawberry.field(description="The principal: key:<key id>, jwt:<subject>…")
    actor_role: str
    credential_id: str | None = strawberry.field(description="The API key id or token jti.")
    operation: str = strawberry.field(description="The mutation (or apikey create / revoke).")
    outcome: str = strawberry.field(
        description="ACCEPTED, REJECTED (see code), FORBIDDEN, CREATED or REVOKED."
    )
    code: str | None
    input_digest: str | None = strawberry.field(
        description="SHA-256 of the input as canonical JSON (the input itself is not kept)."
    )
    command_id: strawberry.ID | None = strawberry.field(description="The command it logged.")
    correlation_id: str | None

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        command = None if row.command_id is None else to_global_id("Command", row.command_id)
        return cls(
            at=row.at,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            credential_id=row.credential_id,
            operation=row.operation,
            outcome=row.outcome,
            code=row.code,
            input_digest=row.input_digest,
            command_id=None if command is None else strawberry.ID(command),
            correlation_id=row.correlation_id,
        )


@strawberry.input(description="Narrow the audit log; each given list allows any of its values.")
class AuditFilter:
    operation: list[str] | None = None
    outcome: list[str] | None = None
    actor_id: str | None = None
