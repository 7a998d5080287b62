"""The read model's tables, by owning domain. Import from here."""

from readmodel.tables.access import ApiKey, AuditEntry
from readmodel.tables.changes import CacheGuard, ChangeCounter, ChangeMarker, LeaseHolder
from readmodel.tables.commands import Command
from readmodel.tables.crm import Account, AccountXref, Contact, Opportunity
from readmodel.tables.delivery import (
    Assignment,
    ChangeOrder,
    Engagement,
    Milestone,
    Person,
    Project,
    RateCard,
    RateCardLine,
    TimeEntry,
)
from readmodel.tables.documents import TrustedDocument
from readmodel.tables.figures import (
    AccountFigures,
    AccountHealthFactor,
    EngagementFigures,
    ProjectFigures,
    ProjectOutlook,
    ProjectOutlookFactor,
)
from readmodel.tables.finance import Invoice, Payment
from readmodel.tables.forecasts import ForecastSnapshot
from readmodel.tables.handoffs import (
    Handoff,
    HandoffStatus,
    HandoffStep,
    StepStatus,
    WinObservation,
)
from readmodel.tables.lineage import Lineage, metadata, table_of
from readmodel.tables.sync import (
    IdentityDecision,
    IntegrationException,
    SyncParked,
    SyncState,
    WebhookEvent,
)

__all__ = [
    "Account",
    "AccountFigures",
    "AccountHealthFactor",
    "AccountXref",
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "CacheGuard",
    "ChangeCounter",
    "ChangeMarker",
    "ChangeOrder",
    "Command",
    "Contact",
    "Engagement",
    "EngagementFigures",
    "ForecastSnapshot",
    "Handoff",
    "HandoffStatus",
    "HandoffStep",
    "IdentityDecision",
    "IntegrationException",
    "Invoice",
    "LeaseHolder",
    "Lineage",
    "Milestone",
    "Opportunity",
    "Payment",
    "Person",
    "Project",
    "ProjectFigures",
    "ProjectOutlook",
    "ProjectOutlookFactor",
    "RateCard",
    "RateCardLine",
    "StepStatus",
    "SyncParked",
    "SyncState",
    "TimeEntry",
    "TrustedDocument",
    "WebhookEvent",
    "WinObservation",
    "metadata",
    "table_of",
]
