"""The states of each canonical entity (../shared/DOMAIN.md), stored as lower-case strings."""

from enum import StrEnum


class SourceSystem(StrEnum):
    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"
    NETSUITE = "netsuite"
    TRYTON = "tryton"


class AccountStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"


class ContactStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class OpportunityStage(StrEnum):
    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


class EngagementStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    ACTIVE = "active"
    CLOSED = "closed"


class BillingMethod(StrEnum):
    TIME_AND_MATERIALS = "time_and_materials"
    FIXED_FEE = "fixed_fee"
    MILESTONE = "milestone"
    RETAINER = "retainer"
    NON_BILLABLE = "non_billable"


class ProjectStatus(StrEnum):
    SETUP = "setup"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CLOSED = "closed"


class MilestoneStatus(StrEnum):
    PLANNED = "planned"
    COMPLETED = "completed"
    APPROVED = "approved"
    INVOICED = "invoiced"


class RateCardStatus(StrEnum):
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"


class AssignmentStatus(StrEnum):
    REQUESTED = "requested"
    BOOKED = "booked"
    ACTIVE = "active"
    ENDED = "ended"


class TimeEntryStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    INVOICED = "invoiced"


class ChangeOrderStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class PaymentStatus(StrEnum):
    RECEIVED = "received"
    APPLIED = "applied"
