"""The weighted pipeline's demand by role: the hours open deals would need, weighted by their
probability, placed by working days over their service line's template length (2 statements).

Formulas and a worked example: docs/formulas.md, "Capacity forecast".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.figures.numbers import to_cents
from readmodel.figures.sql import OPPORTUNITY, live
from readmodel.forecasts.months import Months, deal_span
from readmodel.forecasts.revenue_sources import RATE_CARD
from readmodel.tables import RateCardLine, table_of

CARD_LINE = table_of(RateCardLine)
Rates = dict[str, int]  # role → bill rate (minor units an hour)
DealPlan = Callable[[str | None, int, Rates], tuple[int, list[tuple[str, int]]] | None]
"""(service line, weighted amount in minor units, the card's rates) → (weeks, [(role, hours
×100)]) as the handoff would budget the deal; ``None`` without a template or rates."""
Tally = dict[str, tuple[Decimal, int]]  # role → (hours, how many deals)


async def pipeline_rows(conn: AsyncConnection) -> tuple[list[Any], dict[tuple[str, str], Rates]]:
    """Open live deals naming a service line; each (service line, currency)'s effective card
    rates (the newest card, as the handoff picks it)."""
    o, c, line = OPPORTUNITY.c, RATE_CARD.c, CARD_LINE.c
    deals = await conn.execute(
        select(o.id, o.currency, o.amount_minor, o.probability, o.close_date, o.service_line)
        .where(live(OPPORTUNITY), o.is_closed.is_(False), o.service_line.is_not(None))
        .order_by(o.id)
    )
    lines = await conn.execute(
        select(c.id, c.service_line, c.currency, line.role, line.bill_rate_minor)
        .join(CARD_LINE, line.rate_card_id == c.id)
        .where(live(RATE_CARD), live(CARD_LINE), c.status == "effective")
        .where(c.service_line.is_not(None))
        .order_by(c.effective_from.desc(), c.id.desc())
    )
    return list(deals), _newest_cards(lines)


def _newest_cards(lines: Iterable[Any]) -> dict[tuple[str, str], Rates]:
    card_of: dict[tuple[str, str], int] = {}
    rates: dict[tuple[str, str], Rates] = defaultdict(dict)
    for row in lines:
        key = (row.service_line, row.currency)
        if card_of.setdefault(key, row.id) == row.id:
            rates[key].setdefault(row.role, row.bill_rate_minor)
    return dict(rates)


def pipeline_demand(
    deals: list[Any],
    cards: dict[tuple[str, str], Rates],
    plan: DealPlan,
    months: Months,
    today: date,
) -> dict[date, Tally]:
    """Per month: Σ per role of each deal's role hours × the month's share of the working days
    of its span (from its close date, or today once passed, over the template's weeks), to
    0.01 h. One pass: a deal is planned once and visits the months it overlaps."""
    out: dict[date, Tally] = {month: {} for month in months.firsts}
    for deal in deals:
        rates = cards.get((deal.service_line, deal.currency))
        weighted = deal.amount_minor * deal.probability // 100
        found = None if rates is None else plan(deal.service_line, weighted, rates)
        if found is None:
            continue
        weeks, roles = found
        first, last = deal_span(deal.close_date, today, weeks)
        span = months.calendar.days(first, last)
        if not span:
            continue
        for month, share in months.shares(first, last):
            tally = out[month]
            for role, hours_x100 in roles:
                hours = to_cents(Decimal(hours_x100 * share) / span / 100)
                total, n = tally.get(role, (Decimal("0.00"), 0))
                tally[role] = (total + hours, n + 1)
    return out
