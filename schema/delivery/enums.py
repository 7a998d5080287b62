"""Staffing and time states, registered as GraphQL enums (names upper-case, values as stored)."""

import strawberry

from readmodel.enums import AssignmentStatus, TimeEntryStatus

strawberry.enum(AssignmentStatus, description="requested → booked → active → ended")
strawberry.enum(
    TimeEntryStatus,
    description="draft → submitted → approved → invoiced; or rejected. "
    "approveTimeEntries takes SUBMITTED entries.",
)

__all__ = ["AssignmentStatus", "TimeEntryStatus"]
