"""How the revenue forecast places work in months: the template lengths deals run over, the
firm's working days, and how long after the month it is worked time is invoiced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from readmodel.figures.workdays import NO_HOLIDAYS, Calendar

WeeksOf = Callable[[str | None], int]
"""A service line → how many weeks its projects run (the handoff templates' lengths)."""

TIME_BILLED_AFTER = 1
"""Months between the month time is worked and the month it is invoiced: monthly in arrears
(the handoff's ``monthly_approved_time`` rule; the seeded firm bills on the 1st)."""


@dataclass(frozen=True)
class Rules:
    """What the forecast needs besides the rows (docs/formulas.md, "Revenue forecast")."""

    weeks_of: WeeksOf
    calendar: Calendar = NO_HOLIDAYS
    time_billed_after: int = TIME_BILLED_AFTER

    @classmethod
    def of(cls, forecasts: Any, weeks_of: WeeksOf) -> Rules:
        """From the ``forecasts`` settings (``clientgraph.settings_forecasts``)."""
        return cls(weeks_of, Calendar.of(forecasts.holidays), forecasts.time_billed_after_months)
