"""The backtest: the forecast recomputed as of past days (``past=True``, as the seeded history
is taken), measured against the months that closed since — nothing is stored.

``clientgraph forecast backtest`` prints it by horizon; docs/formulas.md, "Forecast accuracy".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.forecasts.accuracy import Accuracy, accuracy, actual_rows
from readmodel.forecasts.months import last_of
from readmodel.forecasts.revenue_sources import read_sources
from readmodel.forecasts.rules import Rules
from readmodel.forecasts.snapshots import months_ahead, snapshot_rows


class Snapshot(NamedTuple):
    """One recomputed snapshot row (as ``forecast_snapshot`` would hold it)."""

    taken_on: date
    month: date
    horizon: int
    currency: str
    service_line: str
    amount_minor: int


def month_starts(today: date, months: int) -> list[date]:
    """The first day of each of the ``months`` months before today's, oldest first."""
    days, month = [], today.replace(day=1)
    for _ in range(months):
        month = (month - timedelta(days=1)).replace(day=1)
        days.append(month)
    return days[::-1]


async def backtest(
    conn: AsyncConnection,
    days: list[date],
    today: date,
    months: int,
    rules: Rules,
) -> tuple[list[Accuracy], list[Accuracy]]:
    """Each day's forecast of ``months`` months as of that day, against the actuals of those
    that closed before ``today``: by horizon, and by service line and horizon."""
    rows: list[Snapshot] = []
    for day in days:
        start, end = months_ahead(day, months)
        lag, past = rules.time_billed_after, day < today
        sources = await read_sources(conn, start, end, day, None, past=past, time_billed_after=lag)
        found = snapshot_rows(sources, day, months, rules)
        rows += [Snapshot(**r) for r in found if last_of(r["month"]) < today]
    if not rows:
        return [], []
    first, last = min(r.month for r in rows), max(r.month for r in rows)
    return accuracy(rows, await actual_rows(conn, first, last))
