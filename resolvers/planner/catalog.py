"""What the planner knows: for each GraphQL object type it compiles, its table and, field by
field, how the per-field path computes the value (``schema/`` and ``resolvers/``).

The list is explicit on purpose: a field or argument not named here (a figure, a datetime, a
field someone adds tomorrow) makes the whole operation fall back to the per-field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from readmodel import enums
from readmodel.figures.invoices import OPEN_STATUSES


@dataclass(frozen=True)
class Column:
    """A column passed through (text, integer, date)."""

    column: str


@dataclass(frozen=True)
class UtcTime:
    """A ``UTCDateTime`` column, printed as ``datetime.isoformat()`` prints it."""

    column: str


@dataclass(frozen=True)
class Flag:
    """A boolean column."""

    column: str


@dataclass(frozen=True)
class EnumName:
    """A stored enum value shown as its GraphQL name (``posted`` → ``POSTED``)."""

    column: str
    enum: type[Enum]


@dataclass(frozen=True)
class GlobalId:
    """``to_global_id(type_name, id)``."""

    type_name: str


@dataclass(frozen=True)
class MoneyOf:
    """``Money`` from a minor-unit column and a currency column."""

    minor: str
    currency: str = "currency"


@dataclass(frozen=True)
class Hundredths:
    """A ``Decimal`` stored as hundredths (hours), printed with two places."""

    column: str


@dataclass(frozen=True)
class Derived:
    """A value the per-field path computes from the row (and the request's today)."""

    name: str


@dataclass(frozen=True)
class ToOne:
    """The row a foreign key names, within the caller's scope (``one(…)``), else null."""

    type_name: str
    column: str


@dataclass(frozen=True)
class Many:
    """A child list (``many(…)``): ``first`` (default 100) rows in ``order_by``, after the
    item ``after`` names (keyset on ``order_by``, which ends with the id), optional
    filters by argument: argument name → (column, how its value becomes stored values)."""

    type_name: str
    parent: str
    order_by: tuple[str, ...]
    filters: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def arguments(self) -> set[str]:
        """Every argument compiled: ``first``, ``after`` (an item's id) and the filters."""
        return {"first", "after", *self.filters}


@dataclass(frozen=True)
class Stored:
    """A figure ``readmodel/figures/stored.py`` keeps for the row (``table`` keyed by ``key``
    = the row's id), as ``kind``: ``money`` (minor units, with the table's currency),
    ``hundredths`` (a Decimal with two places) or ``ratio`` (ten-thousandths, a float). The
    object reading it is guarded: its account's figures must be current."""

    table: str
    key: str
    column: str
    kind: str


@dataclass(frozen=True)
class Health:
    """``Account.health``: stored in ``account_figures`` and ``account_health_factor``, read
    only when stored as of the request's today."""


@dataclass(frozen=True)
class Outlook:
    """``Project.outlook``: stored in ``project_outlook`` and ``project_outlook_factor`` with
    the project's figures, read only when stored as of the request's today and for its trend
    window (its object is guarded as a stored figure's: its account's figures current)."""


@dataclass(frozen=True)
class Readiness:
    """``Opportunity.readiness``: the handoff's readiness checks (``sync_jobs.handoff.
    readiness``) written in SQL over the deal, its client, its newest engagement, the client's
    ERP links and the rate cards; null for a closed deal."""


Field = (
    Column
    | UtcTime
    | Flag
    | EnumName
    | GlobalId
    | MoneyOf
    | Hundredths
    | Derived
    | ToOne
    | Many
    | Stored
    | Health
    | Outlook
    | Readiness
)


def _stored(table: str, key: str, **fields: tuple[str, str]) -> dict[str, Field]:
    return {name: Stored(table, key, column, kind) for name, (column, kind) in fields.items()}


PROJECT_FIGURES = _stored(
    "project_figures",
    "project_id",
    hoursLogged=("hours_logged_x100", "hundredths"),
    costToDate=("cost_to_date_minor", "money"),
    budgetBurn=("budget_burn_x10000", "ratio"),
    eac=("eac_minor", "money"),
    percentComplete=("percent_complete_x10000", "ratio"),
    recognizedRevenue=("recognized_revenue_minor", "money"),
    unbilledWip=("unbilled_wip_minor", "money"),
    billed=("billed_minor", "money"),
    collected=("collected_minor", "money"),
    margin=("margin_x10000", "ratio"),
)
ENGAGEMENT_FIGURES = _stored(
    "engagement_figures",
    "engagement_id",
    billedToDate=("billed_to_date_minor", "money"),
    backlog=("backlog_minor", "money"),
    delivered=("delivered_minor", "money"),
)


@dataclass(frozen=True)
class Entity:
    table: str
    fields: Mapping[str, Field]


def _node(type_name: str, **fields: Field) -> dict[str, Field]:
    return {"id": GlobalId(type_name), **fields}


ENTITIES: dict[str, Entity] = {
    "Account": Entity(
        "account",
        _node(
            "Account",
            name=Column("name"),
            industry=Column("industry"),
            status=EnumName("status", enums.AccountStatus),
            currency=Column("currency"),
            ownerName=Column("owner_name"),
            billingTermsDays=Column("billing_terms_days"),
            domain=Column("domain"),
            parent=ToOne("Account", "parent_id"),
            children=Many("Account", "parent_id", ("name", "id")),
            contacts=Many("Contact", "account_id", ("last_name", "first_name", "id")),
            opportunities=Many(
                "Opportunity",
                "account_id",
                ("close_date", "id"),
                {"openOnly": ("is_closed", "open")},
            ),
            engagements=Many("Engagement", "account_id", ("start_date", "id")),
            projects=Many("Project", "account_id", ("code", "id")),
            invoices=Many(
                "Invoice", "account_id", ("issue_date", "id"), {"status": ("status", "values")}
            ),
            health=Health(),
        ),
    ),
    "Contact": Entity(
        "contact",
        _node(
            "Contact",
            firstName=Column("first_name"),
            lastName=Column("last_name"),
            email=Column("email"),
            title=Column("title"),
            status=EnumName("status", enums.ContactStatus),
            name=Derived("contact_name"),
            account=ToOne("Account", "account_id"),
        ),
    ),
    "Opportunity": Entity(
        "opportunity",
        _node(
            "Opportunity",
            name=Column("name"),
            stage=EnumName("stage", enums.OpportunityStage),
            probability=Column("probability"),
            amount=MoneyOf("amount_minor"),
            closeDate=Column("close_date"),
            ownerName=Column("owner_name"),
            serviceLine=Column("service_line"),
            isWon=Flag("is_won"),
            isClosed=Flag("is_closed"),
            closedAt=UtcTime("closed_at"),
            account=ToOne("Account", "account_id"),
            readiness=Readiness(),
        ),
    ),
    "Engagement": Entity(
        "engagement",
        _node(
            "Engagement",
            name=Column("name"),
            status=EnumName("status", enums.EngagementStatus),
            billingMethod=EnumName("billing_method", enums.BillingMethod),
            soldValue=MoneyOf("sold_value_minor"),
            startDate=Column("start_date"),
            endDate=Column("end_date"),
            signedAt=UtcTime("signed_at"),
            account=ToOne("Account", "account_id"),
            opportunity=ToOne("Opportunity", "opportunity_id"),
            projects=Many("Project", "engagement_id", ("code", "id")),
            **ENGAGEMENT_FIGURES,
        ),
    ),
    "Project": Entity(
        "project",
        _node(
            "Project",
            code=Column("code"),
            name=Column("name"),
            status=EnumName("status", enums.ProjectStatus),
            billingMethod=EnumName("billing_method", enums.BillingMethod),
            budget=MoneyOf("budget_minor"),
            budgetHours=Hundredths("budget_hours_x100"),
            startDate=Column("start_date"),
            endDate=Column("end_date"),
            managerName=Column("manager_name"),
            activatedAt=UtcTime("activated_at"),
            account=ToOne("Account", "account_id"),
            engagement=ToOne("Engagement", "engagement_id"),
            milestones=Many("Milestone", "project_id", ("due_date", "id")),
            invoices=Many("Invoice", "project_id", ("issue_date", "id")),
            **PROJECT_FIGURES,
            outlook=Outlook(),
        ),
    ),
    "Milestone": Entity(
        "milestone",
        _node(
            "Milestone",
            name=Column("name"),
            dueDate=Column("due_date"),
            completedAt=UtcTime("completed_at"),
            amount=MoneyOf("amount_minor"),
            status=EnumName("status", enums.MilestoneStatus),
            isSlipped=Derived("is_slipped"),
            project=ToOne("Project", "project_id"),
        ),
    ),
    "Invoice": Entity(
        "invoice",
        _node(
            "Invoice",
            number=Column("number"),
            status=EnumName("status", enums.InvoiceStatus),
            issueDate=Column("issue_date"),
            dueDate=Column("due_date"),
            total=MoneyOf("total_minor"),
            balance=MoneyOf("balance_minor"),
            daysOverdue=Derived("days_overdue"),
            account=ToOne("Account", "account_id"),
            project=ToOne("Project", "project_id"),
            payments=Many("Payment", "invoice_id", ("received_on", "id")),
        ),
    ),
    "Payment": Entity(
        "payment",
        _node(
            "Payment",
            status=EnumName("status", enums.PaymentStatus),
            invoice=ToOne("Invoice", "invoice_id"),
        ),  # amount and receivedOn are guarded (FIELD_ROLES): they fall back
    ),
}


@dataclass(frozen=True)
class Root:
    """A root query field: one record by id, or a keyset-paged connection."""

    type_name: str
    paged: bool = False
    ordering: tuple[str, ...] = ()  # the connection's sort columns, ending with id
    ordering_name: str = ""  # as in its cursors: "<table>:<ordering name>"
    overdue_filter: bool = False  # filter: {overdue: …} (and nothing else) compiles


ROOTS: dict[str, Root] = {
    "account": Root("Account"),
    "opportunity": Root("Opportunity"),
    "engagement": Root("Engagement"),
    "project": Root("Project"),
    "invoice": Root("Invoice"),
    "accounts": Root("Account", True, ("name", "id"), "account:name-asc"),
    "projects": Root("Project", True, ("code", "id"), "project:code"),
    "invoices": Root("Invoice", True, ("due_date", "id"), "invoice:due-date", True),
    # the root lists of resolvers.records.LISTS, in their default orders
    "contacts": Root("Contact", True, ("last_name", "id"), "contact:last-name"),
    "opportunities": Root("Opportunity", True, ("close_date", "id"), "opportunity:close-date"),
    "engagements": Root("Engagement", True, ("name", "id"), "engagement:name"),
    "milestones": Root("Milestone", True, ("due_date", "id"), "milestone:due-date"),
}
"""Root fields compiled, with no arguments but ``id`` (records) or ``first`` / ``after``
(connections), and ``invoices``' ``filter`` when it sets ``overdue`` only: any other filter or
an ordering falls back."""
NODES: dict[str, Root] = {
    t: Root(t)
    for t in (
        "Account", "Contact", "Opportunity", "Engagement", "Project", "Milestone", "Invoice",
        "Payment",
    )
}  # fmt: skip
"""``node(id:)`` compiles as the record root of the type its id names (resolvers/planner/
nodes.py): the catalog's types that are ``Node``s."""

OPEN_INVOICE = tuple(s.value for s in OPEN_STATUSES)


def enum_values(enum: type[Enum]) -> list[tuple[Any, str]]:
    return [(member.value, member.name) for member in enum]
