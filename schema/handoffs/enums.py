"""Handoff and step states, registered as GraphQL enums (values as stored)."""

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

__all__ = ["HandoffStatus", "HandoffStepStatus"]
