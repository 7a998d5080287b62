"""A retainer's fee schedule: equal monthly fees over its term — the invoicing rule the
handoff gives the ERP (``monthly_retainer``: ``sync_jobs/handoff/steps.py``) — each invoiced
after the month it covers, as time is (``Rules.time_billed_after``)."""

from __future__ import annotations

from datetime import date

from readmodel.forecasts.months import first_of, shifted

DAYS_PER_MONTH = 30
MAX_TERM_MONTHS = 1200
"""A term longer than a hundred years (an ERP's "open-ended" 9999-12-31) counts as one."""


def term_months(start: date, end: date) -> int:
    """The retainer's months: its days ÷ 30, rounded (a handoff's template weeks × 7 ÷ 30),
    at most ``MAX_TERM_MONTHS``."""
    return min(MAX_TERM_MONTHS, max(1, round((end - start).days / DAYS_PER_MONTH)))


def fees(start: date, end: date, budget_minor: int) -> list[tuple[date, int]]:
    """(the month each fee covers, its amount in minor units), from the start's month: the
    budget ÷ the term's months each, the last the remainder, so they add up to the budget."""
    n = term_months(start, end)
    each = budget_minor // n
    last = budget_minor - each * (n - 1)
    return [(shifted(first_of(start), k), each if k < n - 1 else last) for k in range(n)]


def still_to_bill(schedule: list[tuple[date, int]], left_minor: int) -> list[tuple[date, int]]:
    """The fees not billed yet: the last ones of the schedule, adding up to ``left_minor`` (the
    earliest of them in part when what is left is not a sum of whole fees)."""
    out: list[tuple[date, int]] = []
    for month, fee in reversed(schedule):
        if left_minor <= 0:
            break
        out.append((month, min(fee, left_minor)))
        left_minor -= fee
    return out[::-1]
