"""Command states, kinds, target systems and rejection codes, registered as GraphQL enums.

``CommandKind`` and ``CommandTargetSystem`` (as ``schema.enums.SourceSystem``) keep the
lower-case words the API has always sent as their GraphQL names (``log_time``, ``netsuite``):
the answers' text is unchanged on the wire, and codegen still gets a closed set
(docs/schema-changelog.md).
"""

from enum import StrEnum

import strawberry

from readmodel.command_log import CommandStatus
from readmodel.enums import SourceSystem as StoredSourceSystem
from resolvers.commands.errors import RefusalCode
from resolvers.commands.operator import OPERATOR_SYSTEM

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


@strawberry.enum(
    description="What a command does: one per mutation, operator action or "
    "handoff step (values as stored in the command log)."
)
class CommandKind(StrEnum):
    update_opportunity = "update_opportunity"
    mark_opportunity_won = "mark_opportunity_won"
    log_time = "log_time"
    approve_time_entries = "approve_time_entries"
    complete_milestone = "complete_milestone"
    submit_change_order = "submit_change_order"
    issue_invoice = "issue_invoice"
    retry_command = "retry_command"
    cancel_command = "cancel_command"
    resume_handoff = "resume_handoff"
    retry_handoff_step = "retry_handoff_step"
    cancel_handoff = "cancel_handoff"
    link_identity = "link_identity"
    create_identity_account = "create_identity_account"
    ignore_identity = "ignore_identity"
    ensure_customer = "ensure_customer"
    create_project = "create_project"
    create_billing_schedule = "create_billing_schedule"
    request_staffing = "request_staffing"
    link_project_to_opportunity = "link_project_to_opportunity"


@strawberry.enum(
    description="Where a command is carried out: a system of record, or clientgraph itself "
    "(operator actions)."
)
class CommandTargetSystem(StrEnum):
    salesforce = StoredSourceSystem.SALESFORCE.value
    hubspot = StoredSourceSystem.HUBSPOT.value
    netsuite = StoredSourceSystem.NETSUITE.value
    tryton = StoredSourceSystem.TRYTON.value
    clientgraph = OPERATOR_SYSTEM


__all__ = [
    "CommandKind",
    "CommandRejectionCode",
    "CommandStatus",
    "CommandTargetSystem",
]
