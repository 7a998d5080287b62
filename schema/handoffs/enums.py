"""Handoff and step states, registered as GraphQL enums (values as stored), and the steps'
names and the handoff's trigger.

``HandoffStepName`` and ``HandoffTrigger`` keep the lower-case words the API sent as text before
they were enums (``create_project``, ``sync``), so answers are unchanged on the wire
(docs/schema-changelog.md).
"""

from enum import StrEnum

import strawberry

from readmodel.tables import HandoffStatus, StepStatus

strawberry.enum(
    HandoffStatus,
    description="WAITING_FOR_DATA (see missing) → READY → IN_PROGRESS → COMPLETED; FAILED "
    "(retryHandoffStep), HALTED (a suspected duplicate: fix, then resumeHandoff), CANCELLED.",
)
HandoffStepStatus = strawberry.enum(
    StepStatus, name="HandoffStepStatus", description="PENDING → RUNNING → SUCCEEDED | FAILED."
)


@strawberry.enum(
    description="A handoff's step, in the order the steps run (each is also its command's kind)."
)
class HandoffStepName(StrEnum):
    ensure_customer = "ensure_customer"
    create_project = "create_project"
    create_billing_schedule = "create_billing_schedule"
    request_staffing = "request_staffing"
    link_project_to_opportunity = "link_project_to_opportunity"


@strawberry.enum(description="How clientgraph saw the deal's win that opened the handoff.")
class HandoffTrigger(StrEnum):
    sync = "sync"
    mutation = "mutation"


__all__ = ["HandoffStatus", "HandoffStepName", "HandoffStepStatus", "HandoffTrigger"]
