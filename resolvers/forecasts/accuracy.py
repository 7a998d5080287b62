"""``Portfolio.forecastAccuracy``: the snapshots of the months that closed in the period,
against what those months billed (2 statements)."""

from __future__ import annotations

from datetime import date

from readmodel.forecasts.accuracy import Accuracy, accuracy, accuracy_rows, closed_months
from resolvers.context import Context


async def forecast_accuracy(
    ctx: Context, start: date, end: date
) -> tuple[list[date], list[Accuracy], list[Accuracy]]:
    """The closed months measured; by horizon; by service line and horizon."""
    months = closed_months(start, end, ctx.today)
    if not months:
        return [], [], []
    async with ctx.engine.connect() as conn:
        snapshots, actuals = await accuracy_rows(conn, months[0], months[-1])
    firm, lines = accuracy(snapshots, actuals)
    return months, firm, lines
