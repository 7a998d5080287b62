"""``forecast``: revenue by month — actuals, contracted backlog, weighted pipeline."""

from __future__ import annotations

from datetime import date

import strawberry

from readmodel.forecasts.revenue import Month, Part
from readmodel.money import Money as MoneyValue
from resolvers.context import context_of
from resolvers.forecasts import revenue as resolve
from resolvers.forecasts.pages import page_size
from resolvers.ids import to_global_id
from schema.common.types import NESTED_FIRST, First, Money, money_of

SOURCE_TYPES = {
    "actuals": "Invoice",
    "milestones": "Milestone",
    "fixed_fee": "Project",
    "time_and_materials": "Assignment",
    "weighted_pipeline": "Opportunity",
}


@strawberry.type(description="One part of a month's revenue and the records it sums.")
class ForecastPart:
    found: strawberry.Private[Part]
    source_type: strawberry.Private[str]
    amount: Money = strawberry.field(description="Σ the records' shares in this month.")
    count: int = strawberry.field(description="How many records contribute.")

    @strawberry.field(
        description="Global ids of those records (invoices, milestones, fixed-fee projects, "
        "assignments or opportunities), in the order placed."
    )
    def source_ids(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[strawberry.ID]:
        wanted = self.found.sources[: page_size(context_of(info), first)]
        return [strawberry.ID(to_global_id(self.source_type, key)) for key in wanted]


def _part(month: Month, name: str) -> ForecastPart:
    found = month.parts[name]
    return ForecastPart(
        found=found,
        source_type=SOURCE_TYPES[name],
        amount=money_of(MoneyValue(found.amount, month.currency)),
        count=len(found.sources),
    )


@strawberry.type(description="One month's revenue in one currency, part by part.")
class ForecastMonth:
    month: date = strawberry.field(description="The month's first day.")
    actuals: ForecastPart = strawberry.field(description="Billed invoices issued in the month.")
    milestones: ForecastPart = strawberry.field(
        description="Milestones not yet invoiced, by due date (overdue ones: this month)."
    )
    fixed_fee: ForecastPart = strawberry.field(
        description="Fixed fees still to bill, in equal instalments to the project's end."
    )
    time_and_materials: ForecastPart = strawberry.field(
        description="Booked staffing on time-and-materials and retainer projects: scheduled "
        "hours × bill rate, by working days from today."
    )
    weighted_pipeline: ForecastPart = strawberry.field(
        description="Open deals × probability, spread over the service line's template length."
    )
    total: Money = strawberry.field(description="The sum of the five parts.")
    explanation: str = strawberry.field(description="The sum, part by part.")

    @classmethod
    def of(cls, m: Month) -> ForecastMonth:
        return cls(
            month=m.month,
            actuals=_part(m, "actuals"),
            milestones=_part(m, "milestones"),
            fixed_fee=_part(m, "fixed_fee"),
            time_and_materials=_part(m, "time_and_materials"),
            weighted_pipeline=_part(m, "weighted_pipeline"),
            total=money_of(MoneyValue(m.total, m.currency)),
            explanation=m.explanation,
        )


@strawberry.type(description="The forecast in one currency (amounts are never converted).")
class CurrencyForecast:
    currency: str
    months: list[ForecastMonth]


@strawberry.type(
    description="Revenue by month from one read model (docs/formulas.md, 'Revenue forecast'). "
    "Forecast snapshots and their accuracy are not built yet."
)
class RevenueForecast:
    period_start: date
    period_end: date
    as_of: date = strawberry.field(description="Today: backlog and pipeline start here.")
    currencies: list[CurrencyForecast]


async def revenue_forecast(
    info: strawberry.Info, start: date | None, end: date | None, currency: str | None
) -> RevenueForecast:
    ctx = context_of(info)
    start, end = resolve.period(ctx, start, end)
    found = await resolve.revenue(ctx, start, end, currency)
    return RevenueForecast(
        period_start=start,
        period_end=end,
        as_of=ctx.today,
        currencies=[
            CurrencyForecast(currency=c, months=[ForecastMonth.of(m) for m in months])
            for c, months in found.items()
        ],
    )
