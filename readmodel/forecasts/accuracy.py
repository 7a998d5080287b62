"""Forecast accuracy: stored snapshots against the actuals of the months that closed since,
by horizon (firm-wide, per currency) and by service line (2 statements).

A pair is one snapshot day's forecast F of one closed month and that month's actual A
(Σ billed invoices issued in it), in one currency (and service line). Over a group's pairs:
WAPE = Σ|F − A| ÷ ΣA, bias = Σ(F − A) ÷ ΣA (positive: forecasts ran high), MAPE = the mean
of |F − A| ÷ A over the pairs with A ≠ 0. Formulas and a worked example: docs/formulas.md,
"Forecast accuracy".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.figures.invoices import is_billed
from readmodel.figures.numbers import amount, plural, ratio
from readmodel.figures.sql import INVOICE, PROJECT, live
from readmodel.forecasts.months import first_of, last_of, months_between
from readmodel.forecasts.revenue_sources import BY_CARD, LINE, RATE_CARD
from readmodel.forecasts.snapshots import SNAPSHOT
from readmodel.money import minor_to_decimal
from readmodel.tables.forecasts import NO_SERVICE_LINE

Key = tuple[str, str]  # (currency, service line)


@dataclass(frozen=True)
class Pair:
    """One snapshot's forecast of one closed month, and what the month billed (minor units)."""

    taken_on: date
    month: date
    horizon: int
    currency: str
    service_line: str
    forecast: int
    actual: int


@dataclass(frozen=True)
class Accuracy:
    """One group's error: a currency and horizon, firm-wide or for one service line."""

    currency: str
    service_line: str | None
    horizon: int
    forecast: Decimal
    actual: Decimal
    absolute_error: Decimal
    signed_error: Decimal
    wape: Decimal | None
    bias: Decimal | None
    mape: Decimal | None
    mape_pairs: int
    each: tuple[Pair, ...]  # the pairs measured, by snapshot day and month

    @property
    def pairs(self) -> int:
        return len(self.each)

    @property
    def months(self) -> int:
        """The closed months the pairs forecast."""
        return len({p.month for p in self.each})

    @property
    def explanation(self) -> str:
        c = self.currency
        who = "all service lines" if self.service_line is None else self.service_line
        return (
            f"{c}, {who}, {plural(self.horizon, 'month')} ahead: "
            f"{plural(self.pairs, 'snapshot')} of {plural(self.months, 'closed month')}; "
            f"WAPE = Σ|F − A| {amount(self.absolute_error, c)} ÷ ΣA {amount(self.actual, c)} "
            f"= {self.wape}; bias = Σ(F − A) {amount(self.signed_error, c)} ÷ ΣA = {self.bias}; "
            f"MAPE = mean |F − A| ÷ A over {plural(self.mape_pairs, 'pair')} = {self.mape}."
        )


def closed_months(start: date, end: date, today: date) -> list[date]:
    """The months (first days) whose last day is in ``start`` … ``end`` and before today."""
    return [
        m
        for m in months_between(start, min(end, today))
        if last_of(m) <= end and last_of(m) < today
    ]


async def accuracy_rows(
    conn: AsyncConnection, first: date, last: date
) -> tuple[list[Any], list[Any]]:
    """The snapshots of the months ``first`` … ``last`` (first days), and their actuals."""
    s = SNAPSHOT.c
    snapshots = await conn.execute(
        select(s.taken_on, s.month, s.horizon, s.currency, s.service_line, s.amount_minor)
        .where(s.month >= first, s.month <= last)
        .order_by(s.month, s.taken_on, s.currency, s.service_line)
    )
    return list(snapshots), await actual_rows(conn, first, last)


async def actual_rows(conn: AsyncConnection, first: date, last: date) -> list[Any]:
    """Billed invoice totals per issue day, currency and service line, months ``first`` …
    ``last``."""
    i = INVOICE.c
    actuals = await conn.execute(
        select(i.issue_date, i.currency, LINE, func.sum(i.total_minor))
        .outerjoin(PROJECT, PROJECT.c.id == i.project_id)
        .outerjoin(RATE_CARD, BY_CARD)
        .where(live(INVOICE), is_billed(), i.issue_date >= first, i.issue_date <= last_of(last))
        .group_by(i.issue_date, i.currency, RATE_CARD.c.service_line)
    )
    return list(actuals)


def monthly_actuals(rows: Iterable[Any]) -> dict[date, dict[Key, int]]:
    out: dict[date, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
    for day, currency, line, total in rows:
        out[first_of(day)][(currency, line or NO_SERVICE_LINE)] += int(total)
    return out


def pairs_of(snapshots: Iterable[Any], actuals: dict[date, dict[Key, int]]) -> list[Pair]:
    """Every (snapshot day, month, currency, service line) a snapshot or the month's actuals
    name: a key missing on one side counts 0 there."""
    taken: dict[tuple[date, date, int], dict[Key, int]] = defaultdict(dict)
    for s in snapshots:
        taken[(s.taken_on, s.month, s.horizon)][(s.currency, s.service_line)] = s.amount_minor
    out = []
    for (day, month, ahead), forecasts in taken.items():
        actual = actuals.get(month, {})
        for key in sorted(set(forecasts) | set(actual)):
            f, a = forecasts.get(key, 0), actual.get(key, 0)
            out.append(Pair(day, month, ahead, key[0], key[1], f, a))
    return out


def firm_wide(pairs: Iterable[Pair]) -> list[Pair]:
    """The pairs summed over service lines: one per snapshot day, month and currency."""
    sums: dict[tuple[date, date, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for p in pairs:
        both = sums[(p.taken_on, p.month, p.horizon, p.currency)]
        both[0] += p.forecast
        both[1] += p.actual
    return [Pair(d, m, h, c, "", f, a) for (d, m, h, c), (f, a) in sums.items()]


def measure(pairs: list[Pair], currency: str, line: str | None, ahead: int) -> Accuracy:
    """One group's WAPE, bias and MAPE (each a ratio to 4 places; null when ΣA or n is 0)."""
    total_f = sum(p.forecast for p in pairs)
    total_a = sum(p.actual for p in pairs)
    absolute = sum(abs(p.forecast - p.actual) for p in pairs)
    rated = [Decimal(abs(p.forecast - p.actual)) / p.actual for p in pairs if p.actual]
    return Accuracy(
        currency=currency,
        service_line=line,
        horizon=ahead,
        forecast=minor_to_decimal(total_f),
        actual=minor_to_decimal(total_a),
        absolute_error=minor_to_decimal(absolute),
        signed_error=minor_to_decimal(total_f - total_a),
        wape=ratio(absolute, total_a),
        bias=ratio(total_f - total_a, total_a),
        mape=ratio(sum(rated, Decimal(0)), len(rated)),
        mape_pairs=len(rated),
        each=tuple(sorted(pairs, key=lambda p: (p.taken_on, p.month))),
    )


def accuracy(
    snapshots: Iterable[Any], actual_rows: Iterable[Any]
) -> tuple[list[Accuracy], list[Accuracy]]:
    """By (currency, horizon) firm-wide, and by (currency, service line, horizon) (pure)."""
    pairs = pairs_of(snapshots, monthly_actuals(actual_rows))
    firm: dict[tuple[str, int], list[Pair]] = defaultdict(list)
    for p in firm_wide(pairs):
        firm[(p.currency, p.horizon)].append(p)
    lines: dict[tuple[str, str, int], list[Pair]] = defaultdict(list)
    for p in pairs:
        lines[(p.currency, p.service_line, p.horizon)].append(p)
    return (
        [measure(firm[k], k[0], None, k[1]) for k in sorted(firm)],
        [measure(lines[k], k[0], k[1], k[2]) for k in sorted(lines)],
    )
