"""Forecast snapshots: the revenue forecast of this month and the next ones as it stands on a
day, per currency and service line, written once a day (``snapshot_forecast``) and compared
with actuals once the months close (``accuracy``).

A snapshot is the same arithmetic as ``forecast`` (``revenue.forecast`` over
``read_sources``) with ``today`` set to the day it is taken; docs/formulas.md, "Forecast
accuracy", says what an as-of snapshot of a past day can and cannot know.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel import tables
from readmodel.forecasts.months import first_of, last_of
from readmodel.forecasts.revenue import forecast
from readmodel.forecasts.revenue_sources import Sources, read_sources
from readmodel.forecasts.rules import Rules
from readmodel.money import decimal_to_minor
from readmodel.tables.forecasts import NO_SERVICE_LINE

SNAPSHOT = tables.table_of(tables.ForecastSnapshot)


def horizon(taken_on: date, month: date) -> int:
    """How many months ahead of ``taken_on``'s month ``month`` is (0: the same month)."""
    return (month.year - taken_on.year) * 12 + month.month - taken_on.month


def months_ahead(day: date, n: int) -> tuple[date, date]:
    """The first day of ``day``'s month and the last day of the ``n``-th month from it."""
    month = first_of(day)
    end = month
    for _ in range(n - 1):
        end = last_of(end) + timedelta(days=1)
    return month, last_of(end)


def by_service_line(sources: Sources) -> dict[str, Sources]:
    """The sources split by service line (rows naming none under ``NO_SERVICE_LINE``)."""
    split: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for name in Sources.__dataclass_fields__:
        for row in getattr(sources, name):
            split[row.service_line or NO_SERVICE_LINE][name].append(row)
    return {
        line: Sources(**{name: parts.get(name, []) for name in Sources.__dataclass_fields__})
        for line, parts in sorted(split.items())
    }


def snapshot_rows(sources: Sources, day: date, months: int, rules: Rules) -> list[dict[str, Any]]:
    """Each (month, currency, service line)'s forecast total as of ``day`` (pure)."""
    start, end = months_ahead(day, months)
    rows = []
    for line, part in by_service_line(sources).items():
        for currency, found in forecast(part, start, end, day, rules).items():
            rows += [
                {
                    "taken_on": day,
                    "month": m.month,
                    "horizon": horizon(day, m.month),
                    "currency": currency,
                    "service_line": line,
                    "amount_minor": decimal_to_minor(m.total),
                }
                for m in found
            ]
    return rows


async def take_snapshot(
    conn: AsyncConnection,
    day: date,
    months: int,
    rules: Rules,
    *,
    past: bool = False,
) -> int:
    """Write ``day``'s snapshot unless one is stored already; how many rows were written.

    Idempotent per day: the first snapshot of a day stands (the unique key refuses a
    concurrent second one; the caller's transaction then rolls back and nothing changes).
    ``past``: ``day`` is behind us and its open work is reconstructed from dates (the seed's
    history; ``revenue_sources.OpenOn``).
    """
    taken = await conn.scalar(select(SNAPSHOT.c.id).where(SNAPSHOT.c.taken_on == day).limit(1))
    if taken is not None:
        return 0
    start, end = months_ahead(day, months)
    lag = rules.time_billed_after
    sources = await read_sources(conn, start, end, day, None, past=past, time_billed_after=lag)
    rows = snapshot_rows(sources, day, months, rules)
    if rows:
        await conn.execute(insert(SNAPSHOT), rows)
    return len(rows)
