"""The revenue forecast by month: actuals, contracted backlog by billing method, weighted
pipeline — each part with the ids it was made from (pure; the rows: ``revenue_sources``).

Formulas and a worked example: docs/formulas.md, "Revenue forecast".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from readmodel.figures.numbers import amount, plural, to_cents
from readmodel.forecasts.months import Months, deal_span, first_of, months_between, shifted
from readmodel.forecasts.retainers import fees, still_to_bill
from readmodel.forecasts.revenue_sources import Sources
from readmodel.forecasts.rules import Rules
from readmodel.money import minor_to_decimal, value_of_time

PARTS = (
    "actuals",
    "milestones",
    "fixed_fee",
    "retainers",
    "time_and_materials",
    "unbilled_time",
    "weighted_pipeline",
)
NOUNS = ("invoice", "milestone", "project", "project", "assignment", "project", "deal")
ZERO = Decimal("0.00")


@dataclass
class Part:
    """One part of one month: its amount, the ids of the rows it sums and each one's share."""

    amount: Decimal = ZERO
    sources: list[int] = field(default_factory=list)
    shares: list[Decimal] = field(default_factory=list)  # each source's, in the same order

    def add(self, value: Decimal, source: int) -> None:
        self.amount += value
        self.sources.append(source)
        self.shares.append(value)


@dataclass
class Month:
    """One month of one currency's forecast (``month``: its first day)."""

    month: date
    currency: str
    parts: dict[str, Part] = field(default_factory=lambda: {p: Part() for p in PARTS})

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.parts.values()), ZERO)

    @property
    def explanation(self) -> str:
        terms = [
            f"{name.replace('_', ' ')} {amount(p.amount, self.currency)} "
            f"({plural(len(p.sources), noun)})"
            for (name, p), noun in zip(self.parts.items(), NOUNS, strict=True)
        ]
        return (
            f"{self.month:%Y-%m}: "
            + " + ".join(terms)
            + (f" = {amount(self.total, self.currency)}.")
        )


class Schedule:
    """Months of the period per currency; parts are added as rows are placed."""

    def __init__(self, start: date, end: date, today: date, rules: Rules) -> None:
        self.rules = rules
        self.firsts = months_between(start, end)
        self.known = frozenset(self.firsts)
        # work months: time worked up to ``time_billed_after`` months before the period is
        # invoiced in it
        self.months = Months(shifted(start, -rules.time_billed_after), end, rules.calendar)
        self.current = first_of(today)
        self.today = today
        self.by_currency: dict[str, dict[date, Month]] = defaultdict(dict)

    def add(self, currency: str, month: date, part: str, value: Decimal, source: int) -> None:
        if month not in self.known:
            return
        months = self.by_currency[currency]
        if not months:
            months.update({m: Month(m, currency) for m in self.firsts})
        months[month].parts[part].add(value, source)

    def spread(
        self,
        currency: str,
        part: str,
        value_x: int,
        span: tuple[date, date],
        source: int,
        later: int = 0,
    ) -> None:
        """``value_x`` (1/10,000 of a unit) spread over ``span``'s working days (less the
        firm's holidays), placing each future month's share (from today on), rounded half-even
        to the cent, ``later`` months after the month it falls in."""
        first, last = span
        days = self.rules.calendar.days(first, last)
        if not days:
            return
        for month, share in self.months.shares(max(first, self.today), last):
            value = to_cents(Decimal(value_x) * share / days / 10_000)
            self.add(currency, shifted(month, later), part, value, source)

    def result(self) -> dict[str, list[Month]]:
        return {c: list(m.values()) for c, m in sorted(self.by_currency.items())}


def forecast(
    sources: Sources, start: date, end: date, today: date, rules: Rules
) -> dict[str, list[Month]]:
    """Place every source row in its months (see docs/formulas.md, "Revenue forecast");
    time spreads over the working days of ``rules.calendar`` (``forecasts.holidays`` left
    out) and is invoiced ``rules.time_billed_after`` months after it is worked."""
    s = Schedule(start, end, today, rules)
    for i in sources.invoices:
        s.add(i.currency, first_of(i.issue_date), "actuals", minor_to_decimal(i.total_minor), i.id)
    for m in sources.milestones:
        month = max(first_of(m.due_date), s.current)  # slipped: expected now
        s.add(m.currency, month, "milestones", minor_to_decimal(m.amount_minor), m.id)
    for p in sources.fixed_fees:
        _fixed_fee(s, p)
    for p in sources.retainers:
        _retainer(s, p)
    lag = rules.time_billed_after
    for a in sources.assignments:
        value_x = a.scheduled_hours_x100 * a.bill_rate_minor
        span = (a.start_date, a.end_date)
        s.spread(a.currency, "time_and_materials", value_x, span, a.id, later=lag)
    for t in sources.unbilled_time:
        month = shifted(s.current, t.placed)
        s.add(t.currency, month, "unbilled_time", value_of_time(t.value_x), t.id)
    for d in sources.deals:
        span = deal_span(d.close_date, today, rules.weeks_of(d.service_line))
        s.spread(d.currency, "weighted_pipeline", d.amount_minor * d.probability, span, d.id)
    return s.result()


def _fixed_fee(s: Schedule, p: Any) -> None:
    """What is left of the fee (budget − billed), in equal instalments from this month to the
    end date's month; the last takes the remainder."""
    left = max(0, p.budget_minor - int(p.billed_minor))
    months = months_between(s.current, p.end_date)
    each, rest = divmod(left, len(months))
    for n, month in enumerate(months):
        share = each + (rest if n == len(months) - 1 else 0)
        if share:
            s.add(p.currency, month, "fixed_fee", minor_to_decimal(share), p.id)


def _retainer(s: Schedule, p: Any) -> None:
    """What is left of the fee (budget − billed): the retainer's last monthly fees, each
    invoiced ``time_billed_after`` months after the month it covers, or now once that passed
    (one share a month)."""
    left = max(0, p.budget_minor - int(p.billed_minor))
    due: dict[date, int] = defaultdict(int)  # overdue fees meet in this month: one share
    for month, fee in still_to_bill(fees(p.start_date, p.end_date, p.budget_minor), left):
        if month > s.firsts[-1]:
            break  # invoiced after the period (and a month past year 9999 is no date)
        due[max(shifted(month, s.rules.time_billed_after), s.current)] += fee
    for month, amount_minor in due.items():
        if amount_minor:
            s.add(p.currency, month, "retainers", minor_to_decimal(amount_minor), p.id)
