"""Thresholds of the early warnings (``forecasts``): billing delays and time anomalies.

Kept apart so ``clientgraph/settings.py`` stays small; docs/formulas.md ("Early warnings")
gives the rule each threshold feeds.
"""

from __future__ import annotations

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
