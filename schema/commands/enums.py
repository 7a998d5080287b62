"""Command states and rejection codes, registered as GraphQL enums (values as stored)."""

import strawberry

from readmodel.command_log import CommandStatus
from resolvers.commands.errors import RefusalCode

strawberry.enum(
    CommandStatus,
    description="ACCEPTED → DISPATCHED → RUNNING → SUCCEEDED | FAILED | DEAD_LETTERED; "
    "CANCELLED by an operator before it runs, or given up after it FAILED or was "
    "DEAD_LETTERED. The last four are final. APPLIED: the source "
    "confirmed the write but reading it back failed; only the read-back is retried.",
)
CommandRejectionCode = strawberry.enum(
    RefusalCode,
    name="CommandRejectionCode",
    description="Why a mutation was refused (nothing was logged).",
)

__all__ = ["CommandRejectionCode", "CommandStatus"]
