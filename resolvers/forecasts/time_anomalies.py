"""``timeAnomalies``: the rules over the period asked for, within the caller's row scope."""

from __future__ import annotations

from datetime import date

from readmodel.figures.sql import TIME_ENTRY
from readmodel.figures.workdays import Calendar
from readmodel.forecasts.time_anomalies import Thresholds, TimeAnomaly, time_anomalies
from resolvers.context import Context


def thresholds(ctx: Context) -> Thresholds:
    s = ctx.forecasts
    weekdays = Calendar.of(s.holidays).holidays
    return Thresholds(
        s.anomaly_score, s.anomaly_min_days, s.max_day_hours, s.rate_tolerance_percent, weekdays
    )


async def anomalies(ctx: Context, start: date, end: date) -> list[TimeAnomaly]:
    where = ctx.scope.conditions(TIME_ENTRY)
    async with ctx.engine.connect() as conn:
        return await time_anomalies(conn, start, end, thresholds(ctx), where)
