"""The forecast and early-warning root fields, inherited by the root ``Query``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from schema.forecasts.billing import BillingDelays, billing_delays
from schema.forecasts.revenue import Forecast, revenue_forecast
from schema.forecasts.time import TimeAnomalies, time_anomalies


@strawberry.type
class ForecastQuery:
    @strawberry.field(
        description="Billing slipping today: completed milestones and approved time not "
        "invoiced after the grace days, overdue invoices by aging bucket (finance, operators)."
    )
    def billing_delays(self, info: strawberry.Info) -> BillingDelays:
        return billing_delays(info)

    @strawberry.field(
        description="Time that looks wrong in a period (default: the 90 days to today): off "
        "the person's own pattern, over-long days, weekends, closed or unstaffed projects, "
        "rates off the rate card — each with its rule and numbers."
    )
    async def time_anomalies(
        self,
        info: strawberry.Info,
        period_start: Annotated[
            date | None, strawberry.argument(description="First work date checked.")
        ] = None,
        period_end: Annotated[
            date | None, strawberry.argument(description="Last work date checked (default today).")
        ] = None,
    ) -> TimeAnomalies:
        return await time_anomalies(info, period_start, period_end)

    @strawberry.field(
        description="Revenue by month and currency (actuals, contracted backlog by billing "
        "method, weighted pipeline, each with its sources) and capacity by month and role "
        "(default: this month and the five after; at most 36 months)."
    )
    async def forecast(
        self,
        info: strawberry.Info,
        period_start: Annotated[
            date | None, strawberry.argument(description="A day of the first month.")
        ] = None,
        period_end: Annotated[
            date | None, strawberry.argument(description="A day of the last month.")
        ] = None,
        currency: Annotated[
            str | None, strawberry.argument(description="Only this ISO 4217 currency.")
        ] = None,
    ) -> Forecast:
        return await revenue_forecast(info, period_start, period_end, currency)
