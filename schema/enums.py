"""The read model's states, exposed as GraphQL enums (names upper-case, values as stored).

``SourceSystem`` is the exception: its GraphQL names are the lower-case words the API sent as
text before it was an enum (``netsuite``), so answers are unchanged on the wire.

The Python enums are the read model's own (``readmodel.enums``); registering them here gives
them their GraphQL definition without a second copy of the values.
"""

from enum import StrEnum

import strawberry

from readmodel.enums import (
    AccountStatus,
    BillingMethod,
    ContactStatus,
    EngagementStatus,
    InvoiceStatus,
    MilestoneStatus,
    OpportunityStage,
    PaymentStatus,
    ProjectStatus,
)
from readmodel.enums import SourceSystem as StoredSourceSystem

for _enum, _description in (
    (AccountStatus, "prospect → active → inactive"),
    (ContactStatus, None),
    (OpportunityStage, "Open stages, then CLOSED_WON or CLOSED_LOST."),
    (EngagementStatus, "draft → signed → active → closed"),
    (BillingMethod, "How a project is billed."),
    (ProjectStatus, "setup → active → on hold → completed → closed"),
    (MilestoneStatus, "planned → completed → approved → invoiced"),
    (InvoiceStatus, "draft → posted → partially paid → paid; or void"),
    (PaymentStatus, "received → applied"),
):
    strawberry.enum(_enum, description=_description)


@strawberry.enum(description="A system of record clientgraph reads from and writes to.")
class SourceSystem(StrEnum):
    salesforce = StoredSourceSystem.SALESFORCE.value
    hubspot = StoredSourceSystem.HUBSPOT.value
    netsuite = StoredSourceSystem.NETSUITE.value
    tryton = StoredSourceSystem.TRYTON.value


__all__ = [
    "AccountStatus",
    "BillingMethod",
    "ContactStatus",
    "EngagementStatus",
    "InvoiceStatus",
    "MilestoneStatus",
    "OpportunityStage",
    "PaymentStatus",
    "ProjectStatus",
    "SourceSystem",
]
