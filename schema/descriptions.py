"""What each enum value, and each type and field declared without a description, means, for
the clients that read the schema (codegen copies it).

The Python enums are the read model's and the command log's own; their values are described
here, in one table, rather than by wrapping every member in ``strawberry.enum_value`` (which
would change what the read model stores). ``describe`` writes the table into the built schema,
which serves both introspection and the SDL, and refuses a name the schema lacks, so the table
cannot drift from the schema silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLEnumType, GraphQLSchema

ENUM_VALUES: Mapping[str, Mapping[str, str]] = {
    "IntegrationExceptionKind": {
        "identity_unmatched": "A record (e.g. an ERP customer) that matches no CRM account.",
        "identity_ambiguous": "A record that matches several CRM accounts (see candidates).",
        "orphaned": "A record whose parent never arrived (it stays parked until it does).",
    },
    "HandoffStepName": {
        "ensure_customer": "Find or create the client's ERP customer.",
        "create_project": "Create the delivery project.",
        "create_billing_schedule": "Create the project's billing schedule.",
        "request_staffing": "Ask for the project's staffing.",
        "link_project_to_opportunity": "Link the project back to the deal in the CRM.",
    },
    "HandoffTrigger": {
        "sync": "Sync saw the deal turn won in the CRM.",
        "mutation": "A person won the deal through clientgraph (markOpportunityWon).",
    },
    "CommandKind": {
        "update_opportunity": "updateOpportunity: change a deal in the CRM.",
        "mark_opportunity_won": "markOpportunityWon: win a deal in the CRM.",
        "log_time": "logTime: a time entry in the PSA.",
        "approve_time_entries": "approveTimeEntries: approve time entries in the PSA.",
        "complete_milestone": "completeMilestone: complete a milestone in the PSA.",
        "submit_change_order": "submitChangeOrder: propose a change to a project.",
        "issue_invoice": "issueInvoice: an invoice in the ERP.",
        "retry_command": "retryCommand: an operator's retry of another command.",
        "cancel_command": "cancelCommand: an operator's cancelling of another command.",
        "resume_handoff": "resumeHandoff: an operator resumed a handoff.",
        "retry_handoff_step": "retryHandoffStep: an operator retried a handoff's step.",
        "cancel_handoff": "cancelHandoff: an operator cancelled a handoff.",
        "link_identity": "linkIdentity: an operator linked a record to an account.",
        "create_identity_account": "createIdentityAccount: a record made an account.",
        "ignore_identity": "ignoreIdentity: a record left out of identity matching.",
        "ensure_customer": "Handoff step: find or create the client's ERP customer.",
        "create_project": "Handoff step: create the delivery project.",
        "create_billing_schedule": "Handoff step: the project's billing schedule.",
        "request_staffing": "Handoff step: ask for the project's staffing.",
        "link_project_to_opportunity": "Handoff step: link the project back to the deal.",
    },
    "SourceSystem": {
        "salesforce": "Salesforce, a CRM (accounts, contacts, deals).",
        "hubspot": "HubSpot, a CRM (accounts, contacts, deals).",
        "netsuite": "NetSuite, the ERP and PSA (customers, projects, time, invoices).",
        "tryton": "Tryton, an ERP and PSA (customers, projects, time, invoices).",
    },
    "CommandTargetSystem": {
        "salesforce": "Salesforce, a CRM (accounts, contacts, deals).",
        "hubspot": "HubSpot, a CRM (accounts, contacts, deals).",
        "netsuite": "NetSuite, the ERP and PSA (customers, projects, time, invoices).",
        "tryton": "Tryton, an ERP and PSA (customers, projects, time, invoices).",
        "clientgraph": "clientgraph itself: operator actions on its own records.",
    },
    "AccountOrderField": {
        "NAME": "The client's name (ties broken by id).",
        "UPDATED_AT": "When the client's row last changed in the read model (ties by id).",
    },
    "OrderDirection": {"ASC": "Ascending.", "DESC": "Descending."},
    "IdentityAction": {
        "LINK": "The record is the account named in the decision, whatever its ids say.",
        "CREATE": "The record becomes an account of its own (its system as the source).",
        "IGNORE": "The record is left out: not parked, no exception raised for it.",
    },
    "ProjectOrderField": {
        "CODE": "The project's code (ties broken by id).",
        "NAME": "The project's name (ties broken by id).",
        "START_DATE": "Planned start (ties broken by id).",
    },
    "ContactOrderField": {
        "LAST_NAME": "The contact's last name (ties broken by id).",
        "FIRST_NAME": "The contact's first name (ties broken by id).",
    },
    "OpportunityOrderField": {
        "CLOSE_DATE": "The expected or actual close date (ties broken by id).",
        "NAME": "The deal's name (ties broken by id).",
    },
    "EngagementOrderField": {
        "NAME": "The contract's name (ties broken by id).",
        "START_DATE": "When the contract starts (ties broken by id).",
    },
    "MilestoneOrderField": {
        "DUE_DATE": "When the milestone is due (ties broken by id).",
        "NAME": "The milestone's name (ties broken by id).",
    },
    "InvoiceOrderField": {
        "DUE_DATE": "When payment is due (ties broken by id).",
        "ISSUE_DATE": "When it was issued (ties broken by id).",
        "NUMBER": "The ERP's invoice number (ties broken by id).",
    },
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

TYPES: Mapping[str, str] = {
    "Contact": "A person at a client (CRM).",
    "ContactStatus": "Whether a contact is still at the client.",
    "Milestone": "A deliverable of a project, with its due date and billing amount (PSA).",
    "Payment": "Money received against an invoice (ERP).",
}
"""Type → what it is (for the types declared without one)."""

OWNER = "The client (account) it belongs to."
FILTER_STATUS = "Any of these statuses."
SAME_CURRENCY = "ISO 4217 code: only records in this currency."
FIELDS: Mapping[str, str] = {
    "Account.name": "The client's name, as the CRM has it.",
    "Account.industry": "The industry, as the CRM classifies it.",
    "Account.status": "Where the relationship is.",
    "Account.ownerName": "The account owner (relationship manager).",
    "Account.billingTermsDays": "Days from issue to due date on its invoices.",
    "Account.domain": "The client's web domain (used to match records across systems).",
    "Account.opportunities(openOnly)": "Only deals not yet won or lost.",
    "Account.invoices(status)": FILTER_STATUS,
    "AccountFilter.industry": "Any of these industries (exact).",
    "AccountFilter.status": FILTER_STATUS,
    "AccountFilter.currency": SAME_CURRENCY,
    "AccountHealth.score": "0–100; 100 is healthy.",
    "AccountHealth.status": "The score's band.",
    "AccountHealth.factors": "What moved the score, each with its value, weight and reason.",
    "Assignment.role": "The role the person plays (it picks the rate card's rates).",
    "Assignment.startDate": "First day of the assignment.",
    "Assignment.endDate": "Last day of the assignment.",
    "Assignment.status": "Where the staffing is.",
    "AuditEntry.at": "When it happened.",
    "AuditEntry.actorRole": "The caller's role then.",
    "AuditEntry.code": "The refusal's code, when it was refused.",
    "AuditEntry.correlationId": "Ties the entry to its command and traces.",
    "AuditFilter.operation": "Any of these operations (mutation names).",
    "AuditFilter.outcome": "Any of these outcomes.",
    "AuditFilter.actorId": "Only this caller's entries.",
    "CancelHandoffInput.handoffId": "The handoff to cancel.",
    "CommandActionInput.commandId": "The command to act on.",
    "CommandError.message": "The target system's words.",
    "CommandFilter.status": FILTER_STATUS,
    "CompleteMilestoneInput.milestoneId": "The milestone to complete.",
    "Contact.firstName": "Given name.",
    "Contact.lastName": "Family name.",
    "Contact.email": "Work email.",
    "Contact.title": "Job title.",
    "Contact.status": "Whether still at the client.",
    "Contact.name": "First and last name.",
    "Contact.account": OWNER,
    "CurrencyKpis.currency": "ISO 4217 code: the figures beside it are in it.",
    "Engagement.name": "The contract's or statement of work's name.",
    "Engagement.status": "Where the contract is.",
    "Engagement.billingMethod": "How its work is billed.",
    "Engagement.soldValue": "The contracted value.",
    "Engagement.startDate": "When delivery starts.",
    "Engagement.endDate": "When delivery ends.",
    "Engagement.signedAt": "When it was signed.",
    "Engagement.account": OWNER,
    "Engagement.projects": "The projects delivering it.",
    "Handoff.id": "Its global id (handoff(id:), handoffUpdated(id:)).",
    "Handoff.status": "Where the handoff is.",
    "Handoff.error": "Why the last step failed, when it did.",
    "Handoff.createdAt": "When the handoff began.",
    "Handoff.updatedAt": "Its last change of any kind.",
    "Handoff.completedAt": "When it completed.",
    "HandoffDataInput.billingMethod": "Overrides the template's billing method.",
    "HandoffError.message": "What went wrong, in the target system's words.",
    "HandoffIssue.message": "What is missing or wrong.",
    "HandoffKpis.completed": "Handoffs completed in the period.",
    "HandoffKpis.withoutIntervention": "Of those, completed with no exception raised.",
    "HandoffKpis.medianSetupCycleHours": "Median hours from won to project activated.",
    "HandoffMilestoneInput.name": "The milestone's name.",
    "HandoffStep.status": "Where the step is.",
    "HandoffStep.startedAt": "When its command was sent.",
    "HandoffStep.completedAt": "When it succeeded.",
    "IntegrationExceptionFilter.status": FILTER_STATUS,
    "Invoice.number": "The ERP's invoice number.",
    "Invoice.status": "Where the invoice is.",
    "Invoice.issueDate": "When it was issued.",
    "Invoice.dueDate": "When payment is due.",
    "Invoice.total": "The invoice's total.",
    "Invoice.account": "The client invoiced.",
    "Invoice.project": "The project it bills, if one.",
    "InvoiceFilter.status": FILTER_STATUS,
    "InvoiceFilter.accountId": "Only this client's invoices.",
    "InvoiceFilter.projectId": "Only this project's invoices.",
    "InvoiceFilter.currency": SAME_CURRENCY,
    "IssueInvoiceInput.projectId": "The project to invoice.",
    "LogTimeInput.projectId": "The project worked on.",
    "LogTimeInput.personId": "Who worked.",
    "LogTimeInput.billable": "Whether the client is billed for it.",
    "MarkOpportunityWonInput.opportunityId": "The deal won.",
    "Milestone.name": "The deliverable's name.",
    "AgingTotal.bucket": "The aging bucket (days past the due date).",
    "CurrencyForecast.currency": "The currency of every amount in this entry (never converted).",
    "CurrencyForecast.months": "One entry per month of the period, in order.",
    "Forecast.periodStart": "First day of the forecast period (the first of its month).",
    "Forecast.periodEnd": "Last day of the forecast period.",
    "Mutation.linkIdentity(input)": "The exception, the account to link its record to, a key.",
    "Mutation.createIdentityAccount(input)": "The exception whose record becomes an account.",
    "Mutation.ignoreIdentity(input)": "The exception whose record is to be left out.",
    "ProjectOutlook.status": "On track, at risk, overrun, or no budget to compare with.",
    "RoleCapacity.role": "The role (from assignments and the rate card).",
    "RoleCapacity.flag": "Over or under capacity against the thresholds, or within them.",
    "TimeAnomalies.periodStart": "First work date examined.",
    "TimeAnomalies.periodEnd": "Last work date examined.",
    "TimeAnomaly.rule": "The rule that flagged it (docs/formulas.md gives each).",
    "TimeAnomaly.workDate": "The day worked.",
    "TimeAnomalyCount.rule": "A rule.",
    "TimeAnomalyCount.count": "How many flags that rule raised in the period.",
    "Milestone.dueDate": "When it is due.",
    "Milestone.completedAt": "When it was completed.",
    "Milestone.amount": "What it bills, for milestone billing.",
    "Milestone.status": "Where the milestone is.",
    "Milestone.project": "Its project.",
    "Opportunity.name": "The deal's name.",
    "Opportunity.stage": "Where the deal is.",
    "Opportunity.amount": "Its value.",
    "Opportunity.closeDate": "Expected (or actual) close date.",
    "Opportunity.ownerName": "The salesperson.",
    "Opportunity.serviceLine": "What is sold; picks the project template at handoff.",
    "Opportunity.isWon": "Closed won.",
    "Opportunity.isClosed": "Closed, won or lost.",
    "Opportunity.closedAt": "When it closed.",
    "Opportunity.account": OWNER,
    "Payment.status": "Where the payment is.",
    "Payment.invoice": "The invoice it pays.",
    "Person.name": "Full name.",
    "Portfolio.periodStart": "First day of the period.",
    "Portfolio.periodEnd": "Last day of the period.",
    "Portfolio.billableHours": "Approved billable hours in the period.",
    "Portfolio.availableHours": "Capacity in the period: weekly capacity × working days "
    "(less the firm's holidays, as forecast.capacity) ÷ 5; no personal leave.",
    "Portfolio.currencies": "Money figures, one entry per currency (never summed across).",
    "Project.code": "The project's code in the PSA.",
    "Project.name": "The project's name.",
    "Project.status": "Where the project is.",
    "Project.billingMethod": "How it is billed.",
    "Project.budget": "The budget amount.",
    "Project.budgetHours": "The budgeted hours.",
    "Project.startDate": "Planned start.",
    "Project.endDate": "Planned end.",
    "Project.managerName": "The project manager.",
    "Project.activatedAt": "When it became active (ends the setup cycle).",
    "Project.account": OWNER,
    "Project.engagement": "The contract it delivers.",
    "Project.milestones": "Its milestones by due date.",
    "Project.invoices": "Its invoices by issue date.",
    "ProjectFilter.status": FILTER_STATUS,
    "ProjectFilter.billingMethod": "Any of these billing methods.",
    "ProjectFilter.accountId": "Only this client's projects.",
    "ProjectFilter.engagementId": "Only this contract's projects.",
    "ProjectFilter.currency": SAME_CURRENCY,
    "ResumeHandoffInput.handoffId": "The handoff to resume.",
    "RetryHandoffStepInput.handoffId": "The handoff whose failed step to retry.",
    "SourceFreshness.system": "The source system.",
    "SourceFreshness.objectType": "The object type pulled, e.g. account.",
    "SourceFreshness.lastAttemptAt": "When a pull of it last started, successful or not.",
    "SubmitChangeOrderInput.projectId": "The project to change.",
    "TimeEntry.workDate": "The day worked.",
    "TimeEntry.status": "Where the entry is.",
    "TimeEntry.person": "Who worked.",
    "TimeEntry.project": "The project worked on.",
    "UpdateOpportunityInput.opportunityId": "The deal to change.",
}
"""``Type.field`` or ``Type.field(argument)`` → what it holds (for those declared without)."""


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
    for type_name, text in TYPES.items():
        _named(schema, type_name).description = _named(schema, type_name).description or text
    for coordinate, text in FIELDS.items():
        member = _member(schema, coordinate)
        member.description = member.description or text


def _named(schema: GraphQLSchema, name: str) -> Any:
    found = schema.type_map.get(name)
    if found is None:
        raise LookupError(f"the descriptions name type {name}, which the schema lacks")
    return found


def _member(schema: GraphQLSchema, coordinate: str) -> Any:
    """The field (or argument, ``Type.field(argument)``) a coordinate names."""
    type_name, _, rest = coordinate.partition(".")
    field_name, _, argument = rest.rstrip(")").partition("(")
    fields = getattr(_named(schema, type_name), "fields", {})
    if field_name not in fields:
        raise LookupError(f"the descriptions name {coordinate}: no such field")
    if not argument:
        return fields[field_name]
    if argument not in fields[field_name].args:
        raise LookupError(f"the descriptions name {coordinate}: no such argument")
    return fields[field_name].args[argument]
