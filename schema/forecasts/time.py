"""``timeAnomalies``: time entries that look wrong, each with its rule and numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.forecasts import time_anomalies as found_types
from resolvers.context import context_of
from schema.common.types import NESTED_FIRST, First, Money, money_of, one

if TYPE_CHECKING:
    from schema.delivery.staffing import Person, TimeEntry
    from schema.delivery.types import Project

PersonT = Annotated["Person", strawberry.lazy("schema.delivery.staffing")]
TimeEntryT = Annotated["TimeEntry", strawberry.lazy("schema.delivery.staffing")]
ProjectT = Annotated["Project", strawberry.lazy("schema.delivery.types")]


@strawberry.enum(description="The rule that flagged time (docs/formulas.md, 'Time anomalies').")
class TimeAnomalyRule(Enum):
    OFF_PATTERN = strawberry.enum_value(
        "off_pattern",
        description="A day's hours far from the person's own median day: robust score "
        "|hours − median| ÷ (1.4826 × MAD) above the threshold.",
    )
    LONG_DAY = strawberry.enum_value(
        "long_day", description="More hours in one day than the threshold."
    )
    WEEKEND = strawberry.enum_value("weekend", description="Time worked on a Saturday or Sunday.")
    HOLIDAY = strawberry.enum_value(
        "holiday",
        description="Time worked on one of the firm's holidays (forecasts.holidays) that falls "
        "on a weekday (one on a weekend is WEEKEND).",
    )
    CLOSED_PROJECT = strawberry.enum_value(
        "closed_project",
        description="An entry on a completed or closed project, dated after its end date "
        "(or any date, when it has none).",
    )
    UNSTAFFED = strawberry.enum_value(
        "unstaffed", description="An entry by someone with no assignment on the project that day."
    )
    RATE_OFF_CARD = strawberry.enum_value(
        "rate_off_card",
        description="A billable entry whose bill rate differs from the project's rate card "
        "for its role (beyond the tolerance).",
    )


@strawberry.type(description="One flag: a person's day (day rules) or one entry (entry rules).")
class TimeAnomaly:
    found: strawberry.Private[found_types.TimeAnomaly]
    rule: TimeAnomalyRule
    work_date: date
    hours: Decimal = strawberry.field(
        description="The day's hours (day rules) or the entry's (entry rules)."
    )
    explanation: str = strawberry.field(description="The rule applied, with its numbers.")
    pattern_days: int | None = strawberry.field(
        description="OFF_PATTERN: the person's days with time in the period."
    )
    median_hours: Decimal | None = strawberry.field(
        description="OFF_PATTERN: the median of those days' hours (exact)."
    )
    mad_hours: Decimal | None = strawberry.field(
        description="OFF_PATTERN: their median absolute deviation from the median (exact)."
    )
    score: Decimal | None = strawberry.field(
        description="OFF_PATTERN: |hours − median| ÷ (1.4826 × MAD), half-even to 0.01."
    )
    threshold: Decimal | None = strawberry.field(
        description="The setting compared with: the score (OFF_PATTERN), hours a day "
        "(LONG_DAY), the tolerance in percent (RATE_OFF_CARD)."
    )
    bill_rate: Money | None = strawberry.field(description="RATE_OFF_CARD: the entry's rate.")
    card_rate: Money | None = strawberry.field(
        description="RATE_OFF_CARD: the rate card's bill rate for the entry's role."
    )

    @classmethod
    def of(cls, f: found_types.TimeAnomaly) -> TimeAnomaly:
        p = f.pattern
        return cls(
            found=f,
            rule=TimeAnomalyRule(f.rule),
            work_date=f.work_date,
            hours=f.hours,
            explanation=f.explanation,
            pattern_days=None if p is None else p.days,
            median_hours=None if p is None else p.median,
            mad_hours=None if p is None else p.mad,
            score=f.score,
            threshold=f.threshold,
            bill_rate=None if f.bill_rate is None else money_of(f.bill_rate),
            card_rate=None if f.card_rate is None else money_of(f.card_rate),
        )

    @strawberry.field(description="Who logged the time.")
    async def person(self, info: strawberry.Info) -> PersonT:
        from schema.delivery.staffing import Person

        found = await one(info, "person_by_id", self.found.person_id, Person.from_row)
        assert found is not None, "read within the same scope as the time"
        return found

    @strawberry.field(description="The entry (entry rules; null for day rules).")
    def time_entry(self) -> TimeEntryT | None:
        from schema.delivery.staffing import TimeEntry

        entry = self.found.entry
        return None if entry is None else TimeEntry.from_row(entry)

    @strawberry.field(description="The entry's project (entry rules; null for day rules).")
    async def project(self, info: strawberry.Info) -> ProjectT | None:
        from schema.delivery.types import Project

        entry = self.found.entry
        key = None if entry is None else entry.project_id
        return await one(info, "project_by_id", key, Project.from_row)


@strawberry.type(description="How many anomalies one rule flagged.")
class TimeAnomalyCount:
    rule: TimeAnomalyRule
    count: int


@strawberry.type(
    description="Time that looks wrong in a period, with the thresholds used (settings "
    "forecasts.*; docs/formulas.md, 'Time anomalies')."
)
class TimeAnomalies:
    found: strawberry.Private[list[found_types.TimeAnomaly]]
    period_start: date
    period_end: date
    score_threshold: Decimal = strawberry.field(description="OFF_PATTERN above this score.")
    min_days: int = strawberry.field(
        description="Days with time a person needs in the period before OFF_PATTERN applies."
    )
    max_day_hours: Decimal = strawberry.field(description="LONG_DAY above this many hours.")
    rate_tolerance_percent: Decimal = strawberry.field(
        description="RATE_OFF_CARD beyond this percent of the card rate."
    )

    @strawberry.field(description="Every rule and how many anomalies it flagged (zeros too).")
    def counts(self) -> list[TimeAnomalyCount]:
        return [
            TimeAnomalyCount(rule=rule, count=sum(1 for f in self.found if f.rule == rule.value))
            for rule in TimeAnomalyRule
        ]

    @strawberry.field(description="The anomalies by day, person, rule and entry.")
    def anomalies(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[TimeAnomaly]:
        from resolvers.forecasts.pages import page_size

        return [TimeAnomaly.of(f) for f in self.found[: page_size(context_of(info), first)]]


async def time_anomalies(
    info: strawberry.Info, period_start: date | None, period_end: date | None
) -> TimeAnomalies:
    from resolvers import portfolio
    from resolvers.forecasts.time_anomalies import anomalies, thresholds

    ctx = context_of(info)
    start, end = portfolio.period(ctx, period_start, period_end)
    limits = thresholds(ctx)
    found: Any = await anomalies(ctx, start, end)
    return TimeAnomalies(
        found=found,
        period_start=start,
        period_end=end,
        score_threshold=limits.score,
        min_days=limits.min_days,
        max_day_hours=limits.max_day_hours,
        rate_tolerance_percent=limits.rate_tolerance_percent,
    )
