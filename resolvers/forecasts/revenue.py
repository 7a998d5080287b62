"""``forecast``: the period asked for, the rows behind it, their months."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from readmodel.figures.workdays import Calendar
from readmodel.forecasts.capacity import Demand, RoleMonth, capacity_rows
from readmodel.forecasts.capacity import capacity as capacity_of
from readmodel.forecasts.months import Months, last_of
from readmodel.forecasts.pipeline_demand import Rates, Tally, pipeline_demand, pipeline_rows
from readmodel.forecasts.revenue import Month, forecast
from readmodel.forecasts.revenue_sources import read_sources
from readmodel.forecasts.rules import Rules
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.inputs import currency_code, in_range
from sync_jobs.handoff.templates import budget_hours_x100, split, template_for, weeks_of

Plan = tuple[int, list[tuple[str, int]]]

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
    """The rows (6 statements), then their placement in a worker thread: on a large firm it
    is a second or more of CPU (docs/formulas.md, "Forecasts on a large firm"), during which
    the event loop goes on serving other requests, and the request timeout can answer."""
    currency = currency_code(currency, "currency")
    rules = Rules.of(ctx.forecasts, weeks_of)
    lag = rules.time_billed_after
    async with ctx.engine.connect() as conn:
        sources = await read_sources(conn, start, end, ctx.today, currency, time_billed_after=lag)
    return await asyncio.to_thread(forecast, sources, start, end, ctx.today, rules)


def deal_plan(line: str | None, weighted_minor: int, rates: Rates) -> Plan | None:
    """The hours a deal's weighted amount buys at its template's blended rate, split by the
    template's role shares — the budget its handoff would set (``sync_jobs.handoff``)."""
    template = template_for(line)
    total = 0 if template is None else budget_hours_x100(template, weighted_minor, rates)
    if template is None or total <= 0:
        return None
    parts = split(total, tuple(r.percent for r in template.roles))
    return template.weeks, [(r.role, h) for r, h in zip(template.roles, parts, strict=True)]


async def capacity(ctx: Context, start: date, end: date) -> list[RoleMonth]:
    """The rows (4 statements), then the tallies in a worker thread, as ``revenue``."""
    s, today = ctx.forecasts, ctx.today
    calendar = Calendar.of(s.holidays)
    async with ctx.engine.connect() as conn:
        people, booked = await capacity_rows(conn, start, end, today)
        deals, cards = await pipeline_rows(conn)

    def pipeline(months: Months) -> dict[date, Tally]:
        return pipeline_demand(deals, cards, deal_plan, months, today)

    demand = Demand(booked, calendar, pipeline)
    limits = (s.capacity_over, s.capacity_under)
    return await asyncio.to_thread(capacity_of, people, demand, start, end, today, limits)
