"""Thresholds of the forecasts and early warnings (``forecasts``): billing delays, time
anomalies, the project outlook's trend window, capacity flags.

Kept apart so ``clientgraph/settings.py`` stays small; docs/formulas.md ("Forecasts and early
warnings") gives the rule each threshold feeds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class ForecastSettings(BaseModel):
    """How late is late, and how far is far (``CLIENTGRAPH_FORECASTS__*``)."""

    milestone_invoice_days: int = Field(
        14,
        ge=0,
        le=3660,
        description="A completed milestone not invoiced more than this many days after its "
        "completion is a billing delay.",
    )
    unbilled_time_days: int = Field(
        30,
        ge=0,
        le=3660,
        description="Approved billable time not invoiced more than this many days after the "
        "day it was worked is a billing delay.",
    )
    anomaly_score: Decimal = Field(
        Decimal("3.5"),
        gt=0,
        le=100,
        description="timeAnomalies: a day whose robust score |hours − median| ÷ (1.4826 × MAD) "
        "is above this is off the person's pattern (3.5: Iglewicz and Hoaglin's cut-off).",
    )
    anomaly_min_days: int = Field(
        10,
        ge=2,
        le=1000,
        description="timeAnomalies: days with time a person needs in the period before their "
        "pattern (median, MAD) is judged.",
    )
    max_day_hours: Decimal = Field(
        Decimal(12),
        gt=0,
        le=24,
        description="timeAnomalies: a person's day with more hours than this is over-long.",
    )
    rate_tolerance_percent: Decimal = Field(
        Decimal(0),
        ge=0,
        le=100,
        description="timeAnomalies: a bill rate further than this percent from the rate "
        "card's for the entry's role is flagged (0: any difference).",
    )
    outlook_window_days: int = Field(
        28,
        ge=7,
        le=366,
        description="Project.outlook: the recent trend is the cost logged in this many days "
        "to today, per working day.",
    )
    capacity_over: Decimal = Field(
        Decimal(1),
        gt=0,
        le=10,
        description="forecast.capacity: a role whose booked demand ÷ available hours is above "
        "this is over capacity.",
    )
    capacity_under: Decimal = Field(
        Decimal("0.7"),
        ge=0,
        le=10,
        description="forecast.capacity: below this utilization a role is under capacity.",
    )
    time_billed_after_months: int = Field(
        1,
        ge=0,
        le=3,
        description="forecast: time worked in a month is invoiced this many months later "
        "(1: monthly in arrears, the handoff's rule for time and materials; 0: in the month "
        "worked). Places booked time (timeAndMaterials), unbilled time (unbilledTime) and "
        "retainer fees (retainers).",
    )
    snapshot_months: int = Field(
        6,
        ge=1,
        le=24,
        description="snapshot_forecast: each day's snapshot holds this month and the ones "
        "after it, this many in all (the horizons forecastAccuracy can measure: 0 … n − 1).",
    )
    history_months: int = Field(
        0,
        ge=0,
        le=36,
        description="snapshot_forecast: when no snapshot before today is stored (a new "
        "deployment), first reconstruct one on the 1st of each of this many past months from "
        "the records' dates (past=True, docs/formulas.md), so forecastAccuracy has closed months "
        "at once; 0 (the default) measures only from the first real snapshot. The demo sets 12.",
    )
    holidays: list[date] = Field(
        default_factory=list,
        max_length=1000,
        description="The firm's holidays (ISO dates, e.g. "
        '\'["2026-12-25","2026-12-28"]\' in CLIENTGRAPH_FORECASTS__HOLIDAYS): not working days '
        "for available hours (forecast.capacity, portfolio) nor for spreading booked and "
        "pipeline demand or the revenue forecast.",
    )
