"""``billingDelays``: each list read on demand, within the caller's row scope."""

from __future__ import annotations

from datetime import date

from readmodel.figures.sql import INVOICE, MILESTONE, TIME_ENTRY
from readmodel.forecasts import billing_delays as delays
from resolvers.context import Context
from resolvers.forecasts.pages import page_size


async def uninvoiced_milestones(
    ctx: Context, today: date, first: int
) -> list[delays.UninvoicedMilestone]:
    grace, where = ctx.forecasts.milestone_invoice_days, ctx.scope.conditions(MILESTONE)
    async with ctx.engine.connect() as conn:
        return await delays.uninvoiced_milestones(conn, today, grace, page_size(ctx, first), where)


async def unbilled_time(ctx: Context, today: date, first: int) -> list[delays.UnbilledTime]:
    grace, where = ctx.forecasts.unbilled_time_days, ctx.scope.conditions(TIME_ENTRY)
    async with ctx.engine.connect() as conn:
        return await delays.unbilled_time(conn, today, grace, page_size(ctx, first), where)


async def overdue_invoices(ctx: Context, today: date, first: int) -> list[delays.OverdueInvoice]:
    where = ctx.scope.conditions(INVOICE)
    async with ctx.engine.connect() as conn:
        return await delays.overdue_invoices(conn, today, page_size(ctx, first), where)


async def aging(ctx: Context, today: date) -> list[delays.AgingTotal]:
    async with ctx.engine.connect() as conn:
        return await delays.aging(conn, today, ctx.scope.conditions(INVOICE))
