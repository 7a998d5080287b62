"""Clients and pipeline: Account, Contact, Opportunity, and the account's health."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.context import context_of
from resolvers.ids import to_global_id
from schema.common.types import (
    NESTED_FIRST,
    After,
    First,
    Money,
    Node,
    SourceRef,
    lineage_ref,
    many,
    money,
    one,
)
from schema.enums import (
    AccountStatus,
    ContactStatus,
    InvoiceStatus,
    OpportunityStage,
    SourceSystem,
)

if TYPE_CHECKING:
    from schema.delivery.types import Engagement, Project
    from schema.finance.types import Invoice
    from schema.forecasts.readiness import DealReadiness
    from schema.handoffs.types import Handoff

EngagementT = Annotated["Engagement", strawberry.lazy("schema.delivery.types")]
ProjectT = Annotated["Project", strawberry.lazy("schema.delivery.types")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.finance.types")]
HandoffT = Annotated["Handoff", strawberry.lazy("schema.handoffs.types")]
DealReadinessT = Annotated["DealReadiness", strawberry.lazy("schema.forecasts.readiness")]


@strawberry.federation.type(
    keys=["id"], description="A client. One account however many systems know it."
)
class Account(Node):
    name: str
    industry: str | None
    status: AccountStatus
    currency: str = strawberry.field(description="The client's billing currency (ISO 4217).")
    owner_name: str | None
    billing_terms_days: int
    domain: str | None

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Account", row.id)),
            name=row.name,
            industry=row.industry,
            status=AccountStatus(row.status),
            currency=row.currency,
            owner_name=row.owner_name,
            billing_terms_days=row.billing_terms_days,
            domain=row.domain,
        )

    @strawberry.field(description="The CRM record and every other system's id for this client.")
    async def source_refs(self, info: strawberry.Info) -> list[SourceRef]:
        xrefs = await context_of(info).loaders.xrefs_by_account.load(self.row.id)
        return [lineage_ref(self.row, "account")] + [
            SourceRef(
                system=SourceSystem(x.system),
                object_type=x.object_type,
                source_id=x.source_id,
                version=x.source_version,
                synced_at=x.synced_at,
            )
            for x in xrefs
        ]

    @strawberry.field(description="The parent account in the client hierarchy.")
    async def parent(self, info: strawberry.Info) -> Account | None:
        return await one(info, "account_by_id", self.row.parent_id, Account.from_row)

    @strawberry.field(description="Direct subsidiaries, by name.")
    async def children(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[Account]:
        return await many(
            info, "accounts_by_parent", self.row.id, Account.from_row, first, after=after
        )

    @strawberry.field(description="People at this client, by name.")
    async def contacts(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[Contact]:
        return await many(
            info, "contacts_by_account", self.row.id, Contact.from_row, first, after=after
        )

    @strawberry.field(description="Deals with this client, by close date.")
    async def opportunities(
        self,
        info: strawberry.Info,
        open_only: bool = False,
        first: First = NESTED_FIRST,
        after: After = None,
    ) -> list[Opportunity]:
        only = (("is_closed", (False,)),) if open_only else ()
        return await many(
            info,
            "opportunities_by_account",
            self.row.id,
            Opportunity.from_row,
            first,
            only,
            after=after,
        )

    @strawberry.field(description="Contracts / statements of work, by start date.")
    async def engagements(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[EngagementT]:
        from schema.delivery.types import Engagement

        return await many(
            info, "engagements_by_account", self.row.id, Engagement.from_row, first, after=after
        )

    @strawberry.field(description="Projects delivered for this client, by code.")
    async def projects(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[ProjectT]:
        from schema.delivery.types import Project

        return await many(
            info, "projects_by_account", self.row.id, Project.from_row, first, after=after
        )

    @strawberry.field(description="Invoices to this client by issue date, optionally by status.")
    async def invoices(
        self,
        info: strawberry.Info,
        status: list[InvoiceStatus] | None = None,
        first: First = NESTED_FIRST,
        after: After = None,
    ) -> list[InvoiceT]:
        from schema.finance.types import Invoice

        only = () if status is None else (("status", tuple(sorted({s.value for s in status}))),)
        return await many(
            info, "invoices_by_account", self.row.id, Invoice.from_row, first, only, after=after
        )

    @strawberry.field(description="An explained 0–100 health score (see docs/formulas.md).")
    async def health(self, info: strawberry.Info) -> AccountHealth:
        ctx = context_of(info)
        health = await ctx.loaders.health_by_account.load(self.row.id)
        as_of = await as_of_time(info)
        return AccountHealth.from_figures(health, as_of)


@strawberry.type
class Contact(Node):
    first_name: str
    last_name: str
    email: str | None
    title: str | None
    status: ContactStatus

    @classmethod
    def from_row(cls, row: Any) -> Contact:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Contact", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            title=row.title,
            status=ContactStatus(row.status),
        )

    @strawberry.field
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @strawberry.field
    async def account(self, info: strawberry.Info) -> Account | None:
        return await one(info, "account_by_id", self.row.account_id, Account.from_row)


@strawberry.federation.type(keys=["id"], description="A deal in the pipeline.")
class Opportunity(Node):
    name: str
    stage: OpportunityStage
    probability: int = strawberry.field(description="Chance of winning, percent 0–100.")
    amount: Money
    close_date: date
    owner_name: str | None
    service_line: str | None
    is_won: bool
    is_closed: bool
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Opportunity:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Opportunity", row.id)),
            name=row.name,
            stage=OpportunityStage(row.stage),
            probability=row.probability,
            amount=money(row.amount_minor, row.currency),
            close_date=row.close_date,
            owner_name=row.owner_name,
            service_line=row.service_line,
            is_won=row.is_won,
            is_closed=row.is_closed,
            closed_at=row.closed_at,
        )

    @strawberry.field
    async def account(self, info: strawberry.Info) -> Account | None:
        return await one(info, "account_by_id", self.row.account_id, Account.from_row)

    @strawberry.field(
        description="Projects delivering this deal, by code: through its engagements, or "
        "the project its handoff created or linked."
    )
    async def projects(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[ProjectT]:
        from schema.delivery.types import Project

        return await many(info, "projects_by_opportunity", self.row.id, Project.from_row, first)

    @strawberry.field(description="Its handoff to delivery, once the deal is won.")
    async def handoff(self, info: strawberry.Info) -> HandoffT | None:
        from resolvers.handoffs.loaders import loaders_of
        from schema.handoffs.types import Handoff

        row = await loaders_of(context_of(info)).handoff_by_opportunity.load(self.row.id)
        return None if row is None else Handoff.from_row(row)

    @strawberry.field(
        description="While the deal is open: the handoff's readiness checks applied to it now "
        "(null once closed)."
    )
    async def readiness(self, info: strawberry.Info) -> DealReadinessT | None:
        from schema.forecasts.readiness import deal_readiness

        return await deal_readiness(info, self.row)


@strawberry.enum(description="GREEN: score ≥ 75; AMBER: ≥ 50; RED: below 50.")
class HealthStatus(Enum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@strawberry.type(description="One reason the health score moved, with its numbers.")
class HealthFactor:
    name: str = strawberry.field(description="Stable machine name of the factor.")
    value: Decimal = strawberry.field(description="The measured input (a share or a count).")
    weight: int = strawberry.field(description="Most points this factor can take off.")
    penalty: Decimal = strawberry.field(description="Points it took off, 0 to weight.")
    explanation: str = strawberry.field(description="One sentence, with the numbers.")


@strawberry.type(description="An explained client health score: 100 minus the factors' penalties.")
class AccountHealth:
    score: int
    status: HealthStatus
    factors: list[HealthFactor]
    as_of: datetime | None = strawberry.field(
        description="The read model's oldest successful sync among its sources."
    )

    @classmethod
    def from_figures(cls, health: Any, as_of: datetime | None) -> AccountHealth:
        return cls(
            score=health.score,
            status=HealthStatus(health.status),
            factors=[
                HealthFactor(
                    name=f.name,
                    value=f.value,
                    weight=f.weight,
                    penalty=f.penalty,
                    explanation=f.explanation,
                )
                for f in health.factors
            ],
            as_of=as_of,
        )


async def as_of_time(info: strawberry.Info) -> datetime | None:
    """The oldest last successful sync across sources: every figure is at least this fresh."""
    states = await context_of(info).loaders.sync_states()
    times = [s.last_success_at for s in states if s.last_success_at is not None]
    return min(times) if times else None
