"""The forecast and early-warning root fields, inherited by the root ``Query``."""

from __future__ import annotations

import strawberry

from schema.forecasts.billing import BillingDelays, billing_delays


@strawberry.type
class ForecastQuery:
    @strawberry.field(
        description="Billing slipping today: completed milestones and approved time not "
        "invoiced after the grace days, overdue invoices by aging bucket (finance, operators)."
    )
    def billing_delays(self, info: strawberry.Info) -> BillingDelays:
        return billing_delays(info)
