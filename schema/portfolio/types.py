"""Firm-wide KPIs and the freshness of every source."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.reads.freshness import SourceState, status_of
from resolvers.once import Once
from schema.common.types import Money, money_of, ratio
from schema.enums import SourceSystem

if TYPE_CHECKING:
    from schema.forecasts.accuracy import ForecastAccuracy
    from schema.handoffs.types import HandoffKpis


@strawberry.type(description="KPIs in one currency (amounts are never converted).")
class CurrencyKpis:
    currency: str
    bookings: Money = strawberry.field(description="Σ won amounts, close date in the period.")
    weighted_pipeline: Money = strawberry.field(description="Σ amount × probability, open deals.")
    backlog: Money = strawberry.field(description="Σ (sold − delivered), signed/active contracts.")
    billed: Money = strawberry.field(description="Σ invoice totals issued in the period.")
    collected: Money = strawberry.field(description="Σ payments received in the period.")
    overdue_balance: Money = strawberry.field(description="Σ balances of overdue invoices.")
    ar_balance: Money = strawberry.field(description="Σ balances of open invoices.")
    dso: float | None = strawberry.field(description="AR balance ÷ billed × days in period.")
    realization: float | None = strawberry.field(
        description="Invoiced time at billed rates ÷ the same hours at standard rates."
    )
    collection_realization: float | None = strawberry.field(description="Collected ÷ billed.")

    @classmethod
    def from_figures(cls, k: Any) -> CurrencyKpis:
        return cls(
            currency=k.currency,
            bookings=money_of(k.bookings),
            weighted_pipeline=money_of(k.weighted_pipeline),
            backlog=money_of(k.backlog),
            billed=money_of(k.billed),
            collected=money_of(k.collected),
            overdue_balance=money_of(k.overdue_balance),
            ar_balance=money_of(k.ar_balance),
            dso=ratio(k.dso),
            realization=ratio(k.realization),
            collection_realization=ratio(k.collection_realization),
        )


@strawberry.type(description="The firm at a glance, over a period (formulas: docs/formulas.md).")
class Portfolio:
    period_start: date
    period_end: date
    as_of: datetime | None = strawberry.field(
        description="The read model's oldest successful sync among its sources."
    )
    figures: strawberry.Private[Once[Any]]  # the KPIs: computed only if one is selected

    @strawberry.field(description="Billable hours ÷ available hours in the period.")
    async def utilization(self) -> float | None:
        found = (await self.figures).utilization
        return None if found is None else float(found)

    @strawberry.field
    async def billable_hours(self) -> Decimal:
        return (await self.figures).billable_hours

    @strawberry.field
    async def available_hours(self) -> Decimal:
        return (await self.figures).available_hours

    @strawberry.field
    async def currencies(self) -> list[CurrencyKpis]:
        return [CurrencyKpis.from_figures(k) for k in (await self.figures).currencies]

    @strawberry.field(
        description="Quote-to-project handoffs completed in the period: setup cycle time "
        "(project activated − won) and the share without manual intervention."
    )
    async def handoffs(
        self, info: strawberry.Info
    ) -> Annotated[HandoffKpis, strawberry.lazy("schema.handoffs.types")]:
        from resolvers.context import context_of
        from resolvers.handoffs.queries import handoff_kpis
        from schema.handoffs.types import HandoffKpis

        found = await handoff_kpis(context_of(info), self.period_start, self.period_end)
        return HandoffKpis.from_figures(found)

    @strawberry.field(
        description="Forecast accuracy: the daily snapshots of the revenue forecast against "
        "what the months that closed in the period billed — WAPE, bias and MAPE by horizon, "
        "firm-wide and per service line."
    )
    async def forecast_accuracy(
        self, info: strawberry.Info
    ) -> Annotated[ForecastAccuracy, strawberry.lazy("schema.forecasts.accuracy")]:
        from resolvers.context import context_of
        from resolvers.forecasts.accuracy import forecast_accuracy
        from schema.forecasts.accuracy import ForecastAccuracy, ForecastError

        ctx = context_of(info)
        months, firm, lines = await forecast_accuracy(ctx, self.period_start, self.period_end)
        return ForecastAccuracy(
            months=months,
            by_horizon=[ForecastError.of(a) for a in firm],
            by_service_line=[ForecastError.of(a) for a in lines],
        )


@strawberry.enum(description="The sync health of one object type of one source.")
class FreshnessStatus(Enum):
    OK = strawberry.enum_value("ok", description="Pulled within 3 sync intervals.")
    STALE = strawberry.enum_value(
        "stale", description="Last success longer ago than 3 sync intervals, no error recorded."
    )
    FAILING = strawberry.enum_value(
        "failing",
        description="The latest attempt failed (a failing source marks all its object types).",
    )
    PAUSED = strawberry.enum_value(
        "paused", description="Resting until pausedUntil (the source's daily quota ran out)."
    )
    NEVER = strawberry.enum_value(
        "never", description="Configured, but never pulled successfully yet."
    )


@strawberry.type(description="How fresh the read model is for one object type of one source.")
class SourceFreshness:
    system: SourceSystem
    object_type: str
    last_success_at: datetime | None = strawberry.field(
        description="When a pull of this object last completed (or committed a page)."
    )
    last_attempt_at: datetime | None
    records_applied: int = strawberry.field(
        description="Records written by the latest pull of this object (0: nothing new)."
    )
    records_applied_total: int = strawberry.field(
        description="Records written by every pull of this object, in total."
    )
    last_error: str | None = strawberry.field(
        description="Why the latest attempt failed (null once a pull succeeds)."
    )
    lag_seconds: float | None = strawberry.field(
        description="Seconds since the last successful sync (null: never synced)."
    )
    paused_until: datetime | None = strawberry.field(
        description="While in the future: the source's daily quota ran out and it rests."
    )
    status: FreshnessStatus = strawberry.field(
        description="OK, STALE (lag over 3 sync intervals), FAILING, PAUSED or NEVER."
    )

    @classmethod
    def from_state(
        cls, state: SourceState, now: datetime, interval_seconds: float
    ) -> SourceFreshness:
        last = state.last_success_at
        return cls(
            system=SourceSystem(state.system),
            object_type=state.object_type,
            last_success_at=last,
            last_attempt_at=state.last_attempt_at,
            records_applied=state.records_applied,
            records_applied_total=state.records_applied_total,
            last_error=state.last_error,
            lag_seconds=None if last is None else round((now - last).total_seconds(), 3),
            paused_until=state.paused_until,
            status=FreshnessStatus(status_of(state, now, interval_seconds).value),
        )
