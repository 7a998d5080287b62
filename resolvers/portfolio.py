"""The firm-wide KPIs over a period, and per-source freshness."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import readmodel.figures as figures
from readmodel.figures.workdays import Calendar
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.inputs import EARLIEST, in_range

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3 * 366


def period(ctx: Context, start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default the 90 days ending today (inclusive)."""
    end = in_range(end, "periodEnd") or ctx.today
    start = in_range(start, "periodStart") or max(
        end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), EARLIEST
    )
    if start > end:
        raise BadUserInput("periodStart is after periodEnd", argument="periodStart")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise BadUserInput(
            f"the period may span at most {MAX_PERIOD_DAYS} days", argument="periodStart"
        )
    return start, end


async def portfolio_kpis(ctx: Context, start: date, end: date) -> Any:
    async with ctx.reader.connect() as conn:
        holidays = Calendar.of(ctx.forecasts.holidays)  # as forecast { capacity } counts them
        return await figures.portfolio_kpis(conn, start, end, ctx.today, holidays)
