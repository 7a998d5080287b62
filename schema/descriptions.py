"""What each enum value means, for the clients that read the schema (codegen copies it).

The Python enums are the read model's and the command log's own; their values are described
here, in one table, rather than by wrapping every member in ``strawberry.enum_value`` (which
would change what the read model stores). ``describe`` writes the table into the built schema,
which serves both introspection and the SDL, and refuses a name the schema lacks, so the table
cannot drift from the schema silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import GraphQLEnumType, GraphQLSchema

ENUM_VALUES: Mapping[str, Mapping[str, str]] = {
    "AccountOrderField": {
        "NAME": "The client's name (ties broken by id).",
        "UPDATED_AT": "When the client's row last changed in the read model (ties by id).",
    },
    "OrderDirection": {"ASC": "Ascending.", "DESC": "Descending."},
    "AccountStatus": {
        "PROSPECT": "Not a client yet: deals, no signed work.",
        "ACTIVE": "A client with current work or billing.",
        "INACTIVE": "A former client.",
    },
    "ContactStatus": {
        "ACTIVE": "Still at the client.",
        "INACTIVE": "Left, or no longer a contact.",
    },
    "AssignmentStatus": {
        "REQUESTED": "Staffing asked for, nobody booked yet.",
        "BOOKED": "A person is booked for it, work not started.",
        "ACTIVE": "The person is working on the project.",
        "ENDED": "Over.",
    },
    "BillingMethod": {
        "TIME_AND_MATERIALS": "Billed from approved hours at the rate card's rates.",
        "FIXED_FEE": "A fixed price, billed on a schedule.",
        "MILESTONE": "Billed when milestones are approved.",
        "RETAINER": "A recurring fee for a period.",
        "NON_BILLABLE": "Internal or investment work: never invoiced.",
    },
    "CommandRejectionCode": {
        "VALIDATION_FAILED": "Some input fields are wrong; `fields` names each.",
        "NOT_FOUND": "An id names no live record the caller may see.",
        "NOT_OWNED": "The record lives in a system other than the one that owns the entity.",
        "NO_OWNER": "No system is configured to own the entity written.",
        "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used before with other input.",
        "INVALID_TRANSITION": "Retry or cancel from a status that does not allow it.",
    },
    "CommandStatus": {
        "ACCEPTED": "In the log, not yet handed to the queue.",
        "DISPATCHED": "Handed to the queue; a worker will take it.",
        "RUNNING": "A worker is applying it at the target system.",
        "APPLIED": "The target system confirmed the write; the read model is not updated yet.",
        "SUCCEEDED": "Applied, and the read model reflects the target's record. Final.",
        "FAILED": "The target system refused it (permanent). Final; an operator may retry.",
        "DEAD_LETTERED": "Transient failures until the attempts ran out. Final; an operator "
        "may retry.",
        "CANCELLED": "An operator withdrew it before it ran. Final.",
    },
    "EngagementStatus": {
        "DRAFT": "Being negotiated.",
        "SIGNED": "Signed, delivery not started.",
        "ACTIVE": "Being delivered.",
        "CLOSED": "Delivered or ended.",
    },
    "HandoffStatus": {
        "WAITING_FOR_DATA": "The readiness check found something missing (see `issues`).",
        "READY": "Ready (or resumed); no step started yet.",
        "IN_PROGRESS": "A step's command is running or about to.",
        "COMPLETED": "Customer, project, budget and staffing are set up. Final.",
        "FAILED": "A step's command failed: retryHandoffStep.",
        "HALTED": "Stopped safely (e.g. a suspected duplicate customer): fix, then resume.",
        "CANCELLED": "An operator cancelled it. Final.",
    },
    "HandoffStepStatus": {
        "PENDING": "Not started.",
        "RUNNING": "Its command is on its way to the target system.",
        "SUCCEEDED": "Done.",
        "FAILED": "Its command failed; see the handoff's error.",
    },
    "HealthStatus": {
        "GREEN": "Score 75 or more.",
        "AMBER": "Score 50 to 74.",
        "RED": "Score below 50.",
    },
    "IntegrationExceptionStatus": {
        "OPEN": "Still needs a person to settle it.",
        "RESOLVED": "Settled; kept for the record.",
    },
    "InvoiceStatus": {
        "DRAFT": "Not sent to the client.",
        "POSTED": "Sent; nothing paid yet.",
        "PARTIALLY_PAID": "Sent; part paid.",
        "PAID": "Paid in full.",
        "VOID": "Cancelled; owes nothing.",
    },
    "MilestoneStatus": {
        "PLANNED": "Not done yet.",
        "COMPLETED": "Done, waiting for the client's approval.",
        "APPROVED": "Approved by the client; can be invoiced.",
        "INVOICED": "On an invoice.",
    },
    "OpportunityStage": {
        "PROSPECTING": "Open: first contact.",
        "QUALIFICATION": "Open: need and budget being confirmed.",
        "PROPOSAL": "Open: a proposal was sent.",
        "NEGOTIATION": "Open: terms being agreed.",
        "CLOSED_WON": "Won: the handoff to delivery starts.",
        "CLOSED_LOST": "Lost.",
    },
    "PaymentStatus": {
        "RECEIVED": "Received, not yet applied to invoices.",
        "APPLIED": "Applied to its invoices.",
    },
    "ProjectStatus": {
        "SETUP": "Being set up (from the handoff or by hand).",
        "ACTIVE": "Being delivered.",
        "ON_HOLD": "Paused.",
        "COMPLETED": "Delivered; billing may continue.",
        "CLOSED": "Closed to time and billing.",
    },
    "TimeEntryStatus": {
        "DRAFT": "Being entered.",
        "SUBMITTED": "Waiting for approval.",
        "APPROVED": "Approved; billable time can be invoiced.",
        "REJECTED": "Sent back to its author.",
        "INVOICED": "On an invoice.",
    },
}
"""Enum → value → what it means."""


def describe(schema: GraphQLSchema) -> None:
    """Write ``ENUM_VALUES`` into the schema (a value described in code keeps its own)."""
    for enum_name, values in ENUM_VALUES.items():
        enum = schema.type_map.get(enum_name)
        if not isinstance(enum, GraphQLEnumType):
            raise LookupError(f"the descriptions name enum {enum_name}, which the schema lacks")
        for name, text in values.items():
            if name not in enum.values:
                raise LookupError(f"the descriptions name {enum_name}.{name}: no such value")
            enum.values[name].description = enum.values[name].description or text
