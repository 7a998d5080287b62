"""``Project.outlook``: estimates at completion, the overrun band, margin at completion."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from readmodel.figures.numbers import ratio as exact_ratio
from readmodel.forecasts.outlook import Outlook
from resolvers.context import context_of
from resolvers.forecasts.outlook import outlook
from schema.common.types import Money, money_of, ratio

MONEY = "In the project's currency."


@strawberry.enum(description="Where the estimates at completion fall against the budget.")
class OutlookStatus(Enum):
    ON_TRACK = strawberry.enum_value("on_track", description="Both estimates within budget.")
    AT_RISK = strawberry.enum_value(
        "at_risk", description="One estimate within budget, the other over it."
    )
    OVERRUN = strawberry.enum_value("overrun", description="Both estimates over budget.")
    NO_BUDGET = strawberry.enum_value("no_budget", description="The project has no budget.")


@strawberry.type(description="One part of the outlook, with the sentence that shows its sum.")
class OutlookFactor:
    name: str = strawberry.field(
        description="team_estimate, recent_trend, hours_vs_progress or budget."
    )
    value: Decimal | None = strawberry.field(
        description="The figure: an EAC (team_estimate, recent_trend), hours burn − % complete "
        "(hours_vs_progress), the high estimate − budget (budget); null when unknown."
    )
    explanation: str = strawberry.field(description="One sentence, with the numbers.")


def _money(o: Outlook, value: Decimal | None) -> Money | None:
    found = o.money(value)
    return None if found is None else money_of(found)


@strawberry.type(
    description="Where the project is heading: two estimates at completion (the team's, the "
    "recent trend's), the band they span against the budget, margin at completion "
    "(docs/formulas.md, 'Project outlook')."
)
class ProjectOutlook:
    found: strawberry.Private[Outlook]
    as_of: date = strawberry.field(description="Today: the end of the trend's window.")
    status: OutlookStatus
    low_to_budget: float | None = strawberry.field(
        description="The lower estimate ÷ budget (a fraction; null without a budget)."
    )
    high_to_budget: float | None = strawberry.field(
        description="The higher estimate ÷ budget (a fraction; null without a budget)."
    )
    trend_days_left: int | None = strawberry.field(
        description="Working days from tomorrow to the end date (null without an end date)."
    )

    @classmethod
    def of(cls, o: Outlook, today: date) -> ProjectOutlook:
        return cls(
            found=o,
            as_of=today,
            status=OutlookStatus(o.status),
            low_to_budget=ratio(exact_ratio(o.low, o.budget)),
            high_to_budget=ratio(exact_ratio(o.high, o.budget)),
            trend_days_left=None if o.trend is None else o.trend.days_left,
        )

    @strawberry.field(description="Cost to date + the team's estimate to complete. " + MONEY)
    def team_eac(self) -> Money | None:
        return _money(self.found, self.found.team_eac)

    @strawberry.field(description="Cost to date + recent cost per working day × days left.")
    def trend_eac(self) -> Money | None:
        return _money(self.found, self.found.trend_eac)

    @strawberry.field(description="The recent cost per working day (to the cent).")
    def daily_burn(self) -> Money | None:
        trend = self.found.trend
        return None if trend is None else _money(self.found, trend.daily)

    @strawberry.field(description="The lower of the estimates.")
    def eac_low(self) -> Money | None:
        return _money(self.found, self.found.low)

    @strawberry.field(description="The higher of the estimates: the expected EAC (prudence).")
    def eac_high(self) -> Money | None:
        return _money(self.found, self.found.high)

    @strawberry.field(description="eacLow − budget (negative: under budget).")
    def overrun_low(self) -> Money | None:
        return _money(self.found, self.found.low - self.found.budget)

    @strawberry.field(description="eacHigh − budget (negative: under budget).")
    def overrun_high(self) -> Money | None:
        return _money(self.found, self.found.high - self.found.budget)

    @strawberry.field(description="Revenue expected by completion, by billing method.")
    def revenue_at_completion(self) -> Money | None:
        return _money(self.found, self.found.revenue_at_completion)

    @strawberry.field(description="(Revenue at completion − eacHigh) ÷ revenue at completion.")
    def margin_at_completion(self) -> float | None:
        return ratio(self.found.margin_at_completion)

    @strawberry.field(description="Every part of the outlook, explained (always all four).")
    def factors(self) -> list[OutlookFactor] | None:
        return [OutlookFactor(name=n, value=v, explanation=e) for n, v, e in self.found.factors]


async def project_outlook(info: strawberry.Info, row: Any) -> ProjectOutlook | None:
    ctx = context_of(info)
    found = await outlook(ctx, row)
    return None if found is None else ProjectOutlook.of(found, ctx.today)
