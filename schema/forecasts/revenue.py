"""``forecast``: revenue by month — actuals, contracted backlog, weighted pipeline — and
capacity by month and role."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum

import strawberry

from readmodel.forecasts.capacity import RoleMonth
from readmodel.forecasts.revenue import Month, Part
from readmodel.money import Money as MoneyValue
from resolvers.context import context_of
from resolvers.forecasts import revenue as resolve
from resolvers.forecasts.pages import page_size
from resolvers.ids import to_global_id
from schema.common.types import NESTED_FIRST, First, Money, money_of, ratio

SOURCE_TYPES = {
    "actuals": "Invoice",
    "milestones": "Milestone",
    "fixed_fee": "Project",
    "retainers": "Project",
    "time_and_materials": "Assignment",
    "unbilled_time": "Project",
    "weighted_pipeline": "Opportunity",
}


@strawberry.type(description="One record's share of a part of a month's revenue.")
class ForecastShare:
    source_id: strawberry.ID = strawberry.field(
        description="The record's global id (invoice, milestone, project, assignment or "
        "opportunity; a project for fixed fees, retainers and unbilled time)."
    )
    amount: Money = strawberry.field(
        description="What it adds to the month (docs/formulas.md, 'Revenue forecast')."
    )


@strawberry.type(description="One part of a month's revenue and the records it sums.")
class ForecastPart:
    found: strawberry.Private[Part]
    source_type: strawberry.Private[str]
    currency: strawberry.Private[str]
    amount: Money = strawberry.field(description="Σ the records' shares in this month.")
    count: int = strawberry.field(description="How many records contribute.")

    @strawberry.field(
        description="Global ids of those records (invoices, milestones, fixed-fee or retainer "
        "projects, assignments, projects with unbilled time or opportunities), in the order "
        "placed."
    )
    def source_ids(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[strawberry.ID]:
        wanted = self.found.sources[: page_size(context_of(info), first)]
        return [strawberry.ID(to_global_id(self.source_type, key)) for key in wanted]

    @strawberry.field(
        description="Each record's share of the amount, in the order placed: the amount is "
        "their sum."
    )
    def shares(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[ForecastShare]:
        n = page_size(context_of(info), first)
        found, currency = self.found, self.currency
        return [
            ForecastShare(
                source_id=strawberry.ID(to_global_id(self.source_type, key)),
                amount=money_of(MoneyValue(value, currency)),
            )
            for key, value in zip(found.sources[:n], found.shares[:n], strict=True)
        ]


def _part(month: Month, name: str) -> ForecastPart:
    found = month.parts[name]
    return ForecastPart(
        found=found,
        source_type=SOURCE_TYPES[name],
        currency=month.currency,
        amount=money_of(MoneyValue(found.amount, month.currency)),
        count=len(found.sources),
    )


@strawberry.type(description="One month's revenue in one currency, part by part.")
class ForecastMonth:
    month: date = strawberry.field(description="The month's first day.")
    actuals: ForecastPart = strawberry.field(description="Billed invoices issued in the month.")
    milestones: ForecastPart = strawberry.field(
        description="Milestones not yet invoiced of projects billed on milestones, by due date "
        "(overdue ones: this month)."
    )
    fixed_fee: ForecastPart = strawberry.field(
        description="Fixed fees still to bill, in equal instalments to the project's end."
    )
    retainers: ForecastPart = strawberry.field(
        description="Retainer fees still to bill (until the last fee is invoiced): budget ÷ "
        "the term's months (days ÷ 30, rounded) a month, invoiced "
        "forecasts.time_billed_after_months after the month each covers (this month once that "
        "has passed)."
    )
    time_and_materials: ForecastPart = strawberry.field(
        description="Booked staffing on time-and-materials projects: scheduled "
        "hours × bill rate, by working days from today, invoiced "
        "forecasts.time_billed_after_months (1) after the month worked."
    )
    unbilled_time: ForecastPart = strawberry.field(
        description="Approved billable time worked before today and not on a billed invoice "
        "(WIP, and time on draft invoices) on time-and-materials projects, one share per "
        "project: invoiced "
        "forecasts.time_billed_after_months after the month worked, or this month once that "
        "has passed."
    )
    weighted_pipeline: ForecastPart = strawberry.field(
        description="Open deals × probability, spread over the service line's template length."
    )
    total: Money = strawberry.field(description="The sum of the seven parts.")
    explanation: str = strawberry.field(description="The sum, part by part.")

    @classmethod
    def of(cls, m: Month) -> ForecastMonth:
        return cls(
            month=m.month,
            actuals=_part(m, "actuals"),
            milestones=_part(m, "milestones"),
            fixed_fee=_part(m, "fixed_fee"),
            retainers=_part(m, "retainers"),
            time_and_materials=_part(m, "time_and_materials"),
            unbilled_time=_part(m, "unbilled_time"),
            weighted_pipeline=_part(m, "weighted_pipeline"),
            total=money_of(MoneyValue(m.total, m.currency)),
            explanation=m.explanation,
        )


@strawberry.type(description="The forecast in one currency (amounts are never converted).")
class CurrencyForecast:
    currency: str
    months: list[ForecastMonth]


@strawberry.enum(description="How a role's booked demand compares with its capacity.")
class CapacityFlag(Enum):
    OVER = strawberry.enum_value(
        "over", description="Utilization above forecasts.capacity_over (or demand, no capacity)."
    )
    UNDER = strawberry.enum_value(
        "under", description="Utilization below forecasts.capacity_under."
    )
    OK = strawberry.enum_value("ok", description="In between.")
    IDLE = strawberry.enum_value("idle", description="Neither capacity nor demand.")


@strawberry.type(
    description="One role in one month, from today on: capacity against bookings and the "
    "weighted pipeline."
)
class RoleCapacity:
    month: date = strawberry.field(description="The month's first day.")
    role: str
    available_hours: Decimal = strawberry.field(
        description="Σ weekly capacity × working days left in the month (less the firm's "
        "holidays) ÷ 5, active people."
    )
    demand_hours: Decimal = strawberry.field(
        description="bookedHours + pipelineHours: what the role is asked for in the month."
    )
    booked_hours: Decimal = strawberry.field(
        description="Σ booked assignments' scheduled hours × the month's share of their "
        "working days."
    )
    pipeline_hours: Decimal = strawberry.field(
        description="Σ open deals' hours for the role (amount × probability at the template's "
        "blended card rate, split by its role shares) × the month's share of the working days "
        "of their span."
    )
    people: int = strawberry.field(description="Active people with this role.")
    assignments: int = strawberry.field(description="Assignments with hours in the month.")
    deals: int = strawberry.field(description="Open deals with hours for the role in the month.")
    utilization: float | None = strawberry.field(
        description="demandHours ÷ availableHours (null without capacity)."
    )
    flag: CapacityFlag
    explanation: str = strawberry.field(description="The division, with its numbers.")

    @classmethod
    def of(cls, r: RoleMonth) -> RoleCapacity:
        return cls(
            month=r.month,
            role=r.role,
            available_hours=r.available,
            demand_hours=r.demand,
            booked_hours=r.booked,
            pipeline_hours=r.pipeline,
            people=r.people,
            assignments=r.assignments,
            deals=r.deals,
            utilization=ratio(r.utilization),
            flag=CapacityFlag(r.flag),
            explanation=r.explanation,
        )


@strawberry.type(
    description="Revenue and capacity by month from one read model (docs/formulas.md, "
    "'Revenue forecast', 'Capacity forecast'). Its accuracy: Portfolio.forecastAccuracy."
)
class Forecast:
    period_start: date
    period_end: date
    as_of: date = strawberry.field(description="Today: backlog, pipeline and capacity start here.")
    currencies: list[CurrencyForecast] = strawberry.field(
        description="Revenue, one block per currency."
    )

    @strawberry.field(
        description="Capacity by month (from the current one) and role against booked and "
        "weighted-pipeline demand, over or under."
    )
    async def capacity(
        self, info: strawberry.Info, first: First = NESTED_FIRST
    ) -> list[RoleCapacity]:
        ctx = context_of(info)
        found = await resolve.capacity(ctx, self.period_start, self.period_end)
        return [RoleCapacity.of(r) for r in found[: page_size(ctx, first)]]


async def revenue_forecast(
    info: strawberry.Info, start: date | None, end: date | None, currency: str | None
) -> Forecast:
    ctx = context_of(info)
    start, end = resolve.period(ctx, start, end)
    found = await resolve.revenue(ctx, start, end, currency)
    return Forecast(
        period_start=start,
        period_end=end,
        as_of=ctx.today,
        currencies=[
            CurrencyForecast(currency=c, months=[ForecastMonth.of(m) for m in months])
            for c, months in found.items()
        ],
    )
