"""``Portfolio.forecastAccuracy``: how far the stored forecasts were from the months' actuals."""

from __future__ import annotations

from datetime import date

import strawberry

from readmodel.forecasts.accuracy import Accuracy
from readmodel.money import Money as MoneyValue
from resolvers.context import context_of
from resolvers.forecasts.pages import page_size
from schema.common.types import NESTED_FIRST, First, Money, money_of, ratio


@strawberry.type(description="One snapshot day's forecast F of one closed month, and its actual A.")
class ForecastPair:
    taken_on: date = strawberry.field(description="The day the snapshot was taken.")
    month: date = strawberry.field(description="The month forecast (its first day).")
    forecast: Money = strawberry.field(description="F: what the snapshot forecast for it.")
    actual: Money = strawberry.field(description="A: what the month billed.")


@strawberry.type(
    description="The error of the forecasts of closed months, in one currency, made a number "
    "of months ahead (docs/formulas.md, 'Forecast accuracy')."
)
class ForecastError:
    found: strawberry.Private[Accuracy]
    currency: str = strawberry.field(description="ISO 4217: amounts are never converted.")
    service_line: str | None = strawberry.field(
        description="The service line (its projects' rate card, its deals' own; empty: "
        "none named); null: the firm's total."
    )
    horizon: int = strawberry.field(
        description="Months between the snapshot's month and the forecast month (0: the same)."
    )
    snapshots: int = strawberry.field(
        description="Pairs measured: one per snapshot day and forecast month."
    )
    months: int = strawberry.field(description="Closed months those snapshots forecast.")
    forecast: Money = strawberry.field(description="ΣF: the snapshots' forecasts.")
    actual: Money = strawberry.field(
        description="ΣA: the months' billed invoices, once per snapshot."
    )
    absolute_error: Money = strawberry.field(description="Σ|F − A|.")
    signed_error: Money = strawberry.field(description="Σ(F − A): positive when high.")
    wape: float | None = strawberry.field(
        description="Σ|F − A| ÷ ΣA (null when nothing was billed)."
    )
    bias: float | None = strawberry.field(
        description="Σ(F − A) ÷ ΣA: positive, the forecasts ran high; negative, low."
    )
    mape: float | None = strawberry.field(
        description="The mean of |F − A| ÷ A over the pairs whose month billed something."
    )
    explanation: str = strawberry.field(description="The three ratios with their sums.")

    @strawberry.field(
        description="The pairs behind the sums, by snapshot day and month: each ratio can be "
        "worked out again from them."
    )
    def pairs(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[ForecastPair]:
        c = self.currency
        return [
            ForecastPair(
                taken_on=p.taken_on,
                month=p.month,
                forecast=money_of(MoneyValue.from_minor(p.forecast, c)),
                actual=money_of(MoneyValue.from_minor(p.actual, c)),
            )
            for p in self.found.each[: page_size(context_of(info), first)]
        ]

    @classmethod
    def of(cls, a: Accuracy) -> ForecastError:
        c = a.currency
        return cls(
            found=a,
            currency=c,
            service_line=a.service_line,
            horizon=a.horizon,
            snapshots=a.pairs,
            months=a.months,
            forecast=money_of(MoneyValue(a.forecast, c)),
            actual=money_of(MoneyValue(a.actual, c)),
            absolute_error=money_of(MoneyValue(a.absolute_error, c)),
            signed_error=money_of(MoneyValue(a.signed_error, c)),
            wape=ratio(a.wape),
            bias=ratio(a.bias),
            mape=ratio(a.mape),
            explanation=a.explanation,
        )


@strawberry.type(
    description="Daily forecast snapshots against the actuals of the months that closed in "
    "the period (a month counts once its last day is in the period and before today)."
)
class ForecastAccuracy:
    months: list[date] = strawberry.field(description="The closed months measured (first days).")
    by_horizon: list[ForecastError] = strawberry.field(
        description="Firm-wide, per currency and horizon."
    )
    by_service_line: list[ForecastError] = strawberry.field(
        description="Per currency, service line and horizon."
    )
