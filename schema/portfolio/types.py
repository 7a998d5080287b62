"""Firm-wide KPIs and the freshness of every source."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from schema.common.types import Money, money_of, ratio


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
    utilization: float | None = strawberry.field(
        description="Billable hours ÷ available hours in the period."
    )
    billable_hours: Decimal
    available_hours: Decimal
    currencies: list[CurrencyKpis]


@strawberry.type(description="How fresh the read model is for one object type of one source.")
class SourceFreshness:
    system: str
    object_type: str
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    records_applied: int
    last_error: str | None
    lag_seconds: float | None = strawberry.field(
        description="Seconds since the last successful sync (null: never synced)."
    )

    @classmethod
    def from_row(cls, row: Any, now: datetime) -> SourceFreshness:
        last = row.last_success_at
        return cls(
            system=row.system,
            object_type=row.object_type,
            last_success_at=last,
            last_attempt_at=row.last_attempt_at,
            records_applied=row.records_applied,
            last_error=row.last_error,
            lag_seconds=None if last is None else round((now - last).total_seconds(), 3),
        )
