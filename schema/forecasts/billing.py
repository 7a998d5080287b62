"""``billingDelays``: delivered value not invoiced, and invoices not paid on time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.forecasts import billing_delays as delays
from resolvers.context import context_of
from resolvers.forecasts import billing_delays as resolve
from schema.common.types import NESTED_FIRST, First, Money, money_of, one

if TYPE_CHECKING:
    from schema.delivery.types import Milestone, Project
    from schema.finance.types import Invoice

MilestoneT = Annotated["Milestone", strawberry.lazy("schema.delivery.types")]
ProjectT = Annotated["Project", strawberry.lazy("schema.delivery.types")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.finance.types")]
OWNER = "Who should act: the project's manager (as the PSA names them)."


@strawberry.enum(description="How long an overdue invoice is past its due date, in days.")
class AgingBucket(Enum):
    DAYS_0_30 = strawberry.enum_value("0-30", description="1 to 30 days past due.")
    DAYS_31_60 = strawberry.enum_value("31-60", description="31 to 60 days past due.")
    DAYS_61_90 = strawberry.enum_value("61-90", description="61 to 90 days past due.")
    DAYS_OVER_90 = strawberry.enum_value("90+", description="More than 90 days past due.")


async def _project(info: strawberry.Info, key: int) -> Any:
    from schema.delivery.types import Project

    found = await one(info, "project_by_id", key, Project.from_row)
    assert found is not None, "read within the same scope as the delay"
    return found


@strawberry.type(description="A completed milestone still not invoiced after the grace days.")
class UninvoicedMilestone:
    found: strawberry.Private[delays.UninvoicedMilestone]
    owner: str | None = strawberry.field(description=OWNER)
    amount: Money = strawberry.field(description="The milestone's amount: what to invoice.")
    completed_on: date = strawberry.field(description="The UTC date of its completion.")
    days_waiting: int = strawberry.field(description="Today − completedOn, in days.")

    @classmethod
    def of(cls, found: delays.UninvoicedMilestone) -> UninvoicedMilestone:
        return cls(
            found=found,
            owner=found.owner,
            amount=money_of(found.amount),
            completed_on=found.completed_on,
            days_waiting=found.days_waiting,
        )

    @strawberry.field(description="The milestone (COMPLETED or APPROVED, not INVOICED).")
    def milestone(self) -> MilestoneT:
        from schema.delivery.types import Milestone

        return Milestone.from_row(self.found.row)

    @strawberry.field(description="Its project.")
    async def project(self, info: strawberry.Info) -> ProjectT:
        return await _project(info, self.found.row.project_id)  # type: ignore[no-any-return]


@strawberry.type(
    description="One project's approved billable time not invoiced after the grace days."
)
class UnbilledTime:
    found: strawberry.Private[delays.UnbilledTime]
    owner: str | None = strawberry.field(description=OWNER)
    entries: int = strawberry.field(description="How many time entries.")
    hours: Decimal = strawberry.field(description="Σ their hours.")
    amount: Money = strawberry.field(description="Σ hours × bill rate, entry by entry.")
    oldest_work_date: date = strawberry.field(description="The earliest day worked among them.")
    days_waiting: int = strawberry.field(description="Today − oldestWorkDate, in days.")

    @classmethod
    def of(cls, found: delays.UnbilledTime) -> UnbilledTime:
        return cls(
            found=found,
            owner=found.owner,
            entries=found.entries,
            hours=found.hours,
            amount=money_of(found.amount),
            oldest_work_date=found.oldest_work_date,
            days_waiting=found.days_waiting,
        )

    @strawberry.field(description="The project the time was logged on.")
    async def project(self, info: strawberry.Info) -> ProjectT:
        return await _project(info, self.found.project_id)  # type: ignore[no-any-return]


@strawberry.type(description="An invoice past its due date with a balance still to pay.")
class OverdueInvoice:
    found: strawberry.Private[delays.OverdueInvoice]
    owner: str | None = strawberry.field(description="The client's account owner (CRM).")
    balance: Money = strawberry.field(description="What is still to pay (the ERP's balance).")
    days_overdue: int = strawberry.field(description="Today − due date, in days (at least 1).")
    bucket: AgingBucket = strawberry.field(description="The aging bucket of daysOverdue.")

    @classmethod
    def of(cls, found: delays.OverdueInvoice) -> OverdueInvoice:
        return cls(
            found=found,
            owner=found.owner,
            balance=money_of(found.balance),
            days_overdue=found.days_overdue,
            bucket=AgingBucket(found.bucket),
        )

    @strawberry.field(description="The invoice.")
    def invoice(self) -> InvoiceT:
        from schema.finance.types import Invoice

        return Invoice.from_row(self.found.row)


@strawberry.type(description="Overdue balances of one aging bucket in one currency.")
class AgingTotal:
    bucket: AgingBucket
    currency: str = strawberry.field(description="ISO 4217 code (amounts are never converted).")
    invoices: int = strawberry.field(description="How many overdue invoices.")
    balance: Money = strawberry.field(description="Σ their balances.")

    @classmethod
    def of(cls, found: delays.AgingTotal) -> AgingTotal:
        return cls(
            bucket=AgingBucket(found.bucket),
            currency=found.currency,
            invoices=found.invoices,
            balance=money_of(found.balance),
        )


@strawberry.type(
    description="Where billing slips: delivered value not invoiced, invoices not paid on time "
    "(rules and thresholds: docs/formulas.md, 'Billing delays')."
)
class BillingDelays:
    as_of: date = strawberry.field(description="The day the delays are measured on (today, UTC).")
    milestone_grace_days: int = strawberry.field(
        description="A completed milestone is late once this many days have passed "
        "(setting forecasts.milestone_invoice_days)."
    )
    time_grace_days: int = strawberry.field(
        description="Approved time is late once this many days have passed since it was "
        "worked (setting forecasts.unbilled_time_days)."
    )

    @strawberry.field(description="Completed milestones not invoiced, longest waiting first.")
    async def uninvoiced_milestones(
        self, info: strawberry.Info, first: First = NESTED_FIRST
    ) -> list[UninvoicedMilestone]:
        found = await resolve.uninvoiced_milestones(context_of(info), self.as_of, first)
        return [UninvoicedMilestone.of(f) for f in found]

    @strawberry.field(description="Approved billable time not invoiced, per project, oldest first.")
    async def unbilled_time(
        self, info: strawberry.Info, first: First = NESTED_FIRST
    ) -> list[UnbilledTime]:
        found = await resolve.unbilled_time(context_of(info), self.as_of, first)
        return [UnbilledTime.of(f) for f in found]

    @strawberry.field(description="Overdue invoices, longest past due first.")
    async def overdue_invoices(
        self, info: strawberry.Info, first: First = NESTED_FIRST
    ) -> list[OverdueInvoice]:
        found = await resolve.overdue_invoices(context_of(info), self.as_of, first)
        return [OverdueInvoice.of(f) for f in found]

    @strawberry.field(
        description="Every overdue balance (not only the first overdueInvoices) by aging bucket "
        "and currency."
    )
    async def aging(self, info: strawberry.Info) -> list[AgingTotal]:
        return [AgingTotal.of(f) for f in await resolve.aging(context_of(info), self.as_of)]


def billing_delays(info: strawberry.Info) -> BillingDelays:
    """The root field's value: the thresholds and today; each list reads when selected."""
    ctx = context_of(info)
    return BillingDelays(
        as_of=ctx.today,
        milestone_grace_days=ctx.forecasts.milestone_invoice_days,
        time_grace_days=ctx.forecasts.unbilled_time_days,
    )
