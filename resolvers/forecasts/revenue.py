"""``forecast``: the period asked for, the rows behind it, their months."""

from __future__ import annotations

from datetime import date, timedelta

from readmodel.forecasts.capacity import RoleMonth, capacity_rows
from readmodel.forecasts.capacity import capacity as capacity_of
from readmodel.forecasts.revenue import Month, forecast, last_of
from readmodel.forecasts.revenue_sources import read_sources
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.inputs import currency_code, in_range
from sync_jobs.handoff.templates import weeks_of

DEFAULT_MONTHS = 6
MAX_MONTHS = 36


def period(ctx: Context, start: date | None, end: date | None) -> tuple[date, date]:
    """By default this month and the five after it; at most 36 months."""
    start = in_range(start, "periodStart") or ctx.today.replace(day=1)
    end = in_range(end, "periodEnd") or _months_after(start, DEFAULT_MONTHS - 1)
    if start > end:
        raise BadUserInput("periodStart is after periodEnd", argument="periodStart")
    if end > _months_after(start, MAX_MONTHS - 1):
        raise BadUserInput(f"the period may span at most {MAX_MONTHS} months", argument="periodEnd")
    return start, end


def _months_after(start: date, n: int) -> date:
    month = start.replace(day=1)
    for _ in range(n):
        month = last_of(month) + timedelta(days=1)
    return last_of(month)


async def revenue(
    ctx: Context, start: date, end: date, currency: str | None
) -> dict[str, list[Month]]:
    currency = currency_code(currency, "currency")
    async with ctx.engine.connect() as conn:
        sources = await read_sources(conn, start, end, ctx.today, currency)
    return forecast(sources, start, end, ctx.today, weeks_of)


async def capacity(ctx: Context, start: date, end: date) -> list[RoleMonth]:
    s = ctx.forecasts
    async with ctx.engine.connect() as conn:
        people, booked = await capacity_rows(conn, start, end, ctx.today)
    return capacity_of(people, booked, start, end, ctx.today, (s.capacity_over, s.capacity_under))
