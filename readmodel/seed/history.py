"""The seeded firm's forecast history: a snapshot on the first of each of the last twelve
months and one today, so forecast accuracy has closed months to measure from the start.

The read model keeps each record's present state, not its past ones, so a past day's
snapshot cannot be recomputed exactly: it is taken by the job's own function with
``past=True``, which reconstructs the open work of that day from dates
(``revenue_sources.OpenOn``; docs/formulas.md, "Forecast accuracy").
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from readmodel.forecasts.backtest import month_starts
from readmodel.forecasts.rules import Rules
from readmodel.forecasts.snapshots import take_snapshot

HISTORY_MONTHS = 12
"""Monthly snapshots (not daily, as the job takes them) keep seeding fast: 13 in all."""


def snapshot_days(today: date, months: int = HISTORY_MONTHS) -> list[date]:
    """The first day of each of the ``months`` months before today's, oldest first; today."""
    return [*month_starts(today, months), today]


async def seed_snapshots(
    engine: AsyncEngine,
    today: date,
    months: int,
    rules: Rules,
    *,
    progress: bool = True,
    history_months: int = HISTORY_MONTHS,
) -> int:
    """Take the history's snapshots (each ``months`` months long), one on the 1st of each of
    the ``history_months`` months before today's and today's; how many rows they wrote (a day
    already stored is left as it is)."""
    written = 0
    days = snapshot_days(today, history_months)
    for day in tqdm(days, unit="snapshot", desc="forecast history", disable=not progress):
        async with engine.begin() as conn:
            written += await take_snapshot(conn, day, months, rules, past=day < today)
    return written
