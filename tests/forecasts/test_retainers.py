"""A retainer's fee schedule (``readmodel/forecasts/retainers.py``): the handoff's invoicing
rule, the fees adding up to the budget, what is left billed last fees first."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from readmodel.forecasts.retainers import fees, still_to_bill, term_months
from sync_jobs.handoff.readiness import Plan
from sync_jobs.handoff.steps import _rule
from sync_jobs.handoff.templates import TEMPLATES, end_date

D = date


def test_the_term_is_the_handoffs_monthly_retainer_rule() -> None:
    """A project the handoff made runs start … start + weeks: the forecast counts as many
    monthly fees, of the same amount, as the rule the handoff gave the ERP."""
    start = D(2026, 5, 4)
    for line, template in TEMPLATES.items():
        plan = Plan(line, template, 1_234_567, "EUR", "retainer", start, None, ())
        rule = _rule(template, plan)
        schedule = fees(start, end_date(template, start), plan.sold_minor)
        assert term_months(start, end_date(template, start)) == int(rule["months"]), line
        assert f"{schedule[0][1] / 100:.2f}" == rule["amount"], line


def test_the_worked_retainer() -> None:
    """PR of docs/formulas.md: 05-01 … 09-30 is 152 days, 5 months; 7,500.00 of 10,000.00
    left is September's, August's and July's fees and 1,500.00 of June's."""
    schedule = fees(D(2026, 5, 1), D(2026, 9, 30), 1_000_001)
    assert schedule == [
        (D(2026, 5, 1), 200_000), (D(2026, 6, 1), 200_000), (D(2026, 7, 1), 200_000),
        (D(2026, 8, 1), 200_000), (D(2026, 9, 1), 200_001),
    ]  # fmt: skip
    assert still_to_bill(schedule, 750_001) == [
        (D(2026, 6, 1), 150_000), (D(2026, 7, 1), 200_000), (D(2026, 8, 1), 200_000),
        (D(2026, 9, 1), 200_001),
    ]  # fmt: skip
    assert still_to_bill(schedule, 0) == []
    assert term_months(D(2026, 5, 1), D(2026, 5, 10)) == 1  # shorter than a month: one fee


@given(
    st.dates(D(2020, 1, 1), D(2030, 12, 31)),
    st.integers(0, 1500),
    st.integers(0, 10**9),
    st.integers(-(10**6), 2 * 10**9),
)
def test_fees_add_up_to_the_budget_and_what_is_left(
    start: date, days: int, budget: int, left: int
) -> None:
    end = date.fromordinal(start.toordinal() + days)
    schedule = fees(start, end, budget)
    assert sum(f for _, f in schedule) == budget
    assert len(schedule) == term_months(start, end) == max(1, round(days / 30))
    assert [m for m, _ in schedule] == sorted({m for m, _ in schedule})  # one a month
    rest = still_to_bill(schedule, left)
    assert sum(f for _, f in rest) == max(0, min(left, budget))
    assert rest == [] or rest[1:] == schedule[len(schedule) - len(rest) + 1 :]
