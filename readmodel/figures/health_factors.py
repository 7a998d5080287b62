"""The six client-health factors: each measures one input, takes off up to its weight.

penalty = weight × severity, severity a piecewise-linear ramp from 0 to 1 of the measured value,
rounded half-even to 0.01 point. Rules, weights and why: docs/formulas.md, "Client health".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from readmodel.figures.health_inputs import (
    RENEWAL_WINDOW_DAYS,
    STALE_AFTER_DAYS,
    HealthInputs,
    Receivables,
)
from readmodel.figures.numbers import amount, percent, plural, ratio, to_cents
from readmodel.figures.projects import ProjectFigures
from readmodel.money import hours_to_decimal, minor_to_decimal

ZERO = Decimal(0)
ONE = Decimal(1)
NO_SHARE = Decimal("0.0000")

BURN_TOLERANCE = Decimal("0.10")
"""A project counts when budget burn exceeds % complete by more than 10 points."""
BURN_FULL_SHARE = Decimal("0.50")
"""Full penalty once half the active projects burn ahead of progress."""
OVERDUE_FREE_SHARE = Decimal("0.10")
"""Up to 10% of open receivables may be overdue before any penalty."""
OVERDUE_FULL_SHARE = Decimal("0.50")
"""Full penalty once half of the open receivables are overdue."""
SLIPPED_FULL_COUNT = Decimal(3)
STALE_FULL_HOURS = Decimal(40)
"""A week of one person's time waiting > 14 days for approval takes the full weight."""
CHANGE_ORDERS_FULL_COUNT = Decimal(3)

WEIGHTS = {
    "budget_burn_ahead_of_progress": 25,
    "overdue_receivables": 25,
    "slipped_milestones": 15,
    "unapproved_time": 15,
    "open_change_orders": 10,
    "no_renewal_near_end": 10,
}
"""Most points each factor can take off: money at risk 25, delivery 15, admin signals 10."""


@dataclass(frozen=True)
class HealthFactor:
    """One reason the health score moved, with its numbers."""

    name: str
    value: Decimal
    weight: int
    penalty: Decimal
    explanation: str


Factor = Callable[[HealthInputs, date], HealthFactor]


def ramp(value: Decimal, start: Decimal, full: Decimal) -> Decimal:
    """Severity: 0 at or below ``start``, 1 at or above ``full``, linear in between."""
    if value <= start:
        return ZERO
    if value >= full:
        return ONE
    return (value - start) / (full - start)


def _factor(name: str, value: Decimal, severity: Decimal, text: str) -> HealthFactor:
    weight = WEIGHTS[name]
    return HealthFactor(name, value, weight, to_cents(weight * severity), text)


def _burn_gap(p: ProjectFigures) -> Decimal:
    if p.budget_burn is None or p.percent_complete is None:
        return -ONE
    return p.budget_burn - p.percent_complete


def budget_burn_ahead_of_progress(inputs: HealthInputs, today: date) -> HealthFactor:
    """Share of active projects whose budget burn exceeds % complete by over 10 points."""
    active = inputs.active_projects
    ahead = [p for p in active if _burn_gap(p) > BURN_TOLERANCE]
    share = ratio(len(ahead), len(active)) or NO_SHARE
    if not active:
        text = "The account has no active projects."
    else:
        verb = "is" if len(ahead) == 1 else "are"
        text = f"{len(ahead)} of {len(active)} active projects {verb} burning budget more than "
        text += f"10 points ahead of progress{_worst_burn(ahead)}."
    severity = ramp(share, ZERO, BURN_FULL_SHARE)
    return _factor("budget_burn_ahead_of_progress", share, severity, text)


def _worst_burn(ahead: list[ProjectFigures]) -> str:
    if not ahead:
        return ""
    worst = min(ahead, key=lambda p: (-_burn_gap(p), p.code))
    assert worst.budget_burn is not None and worst.percent_complete is not None
    burned, done = percent(worst.budget_burn), percent(worst.percent_complete)
    return f" (worst: {worst.code}, {burned} burned vs {done} complete)"


def overdue_receivables(inputs: HealthInputs, today: date) -> HealthFactor:
    """Overdue balance ÷ open receivables, in the account's worst currency."""
    open_ones = [r for r in inputs.receivables if r.open_minor > 0]
    worst = max(open_ones, key=_overdue_share, default=None)
    if worst is None:
        return _factor("overdue_receivables", NO_SHARE, ZERO, "No open receivables.")
    share = _overdue_share(worst)
    severity = ramp(share, OVERDUE_FREE_SHARE, OVERDUE_FULL_SHARE)
    return _factor("overdue_receivables", share, severity, _overdue_text(worst, share, today))


def _overdue_share(r: Receivables) -> Decimal:
    return ratio(r.overdue_minor, r.open_minor) or NO_SHARE


def _overdue_text(r: Receivables, share: Decimal, today: date) -> str:
    open_amount = amount(minor_to_decimal(r.open_minor), r.currency)
    if not r.overdue_count or r.oldest_due is None:
        return f"None of the {open_amount} of open receivables is overdue."
    overdue = amount(minor_to_decimal(r.overdue_minor), r.currency)
    days = (today - r.oldest_due).days
    return (
        f"{overdue} of {open_amount} open receivables is overdue ({percent(share)}, "
        f"{plural(r.overdue_count, 'invoice')}, oldest {days} days past due)."
    )


def slipped_milestones(inputs: HealthInputs, today: date) -> HealthFactor:
    """Milestones of the account's projects past their due date and still planned."""
    slipped = inputs.slipped_milestones
    if not slipped.count or slipped.first is None:
        text = "No milestone is past its due date and still planned."
    else:
        verb = "is" if slipped.count == 1 else "are"
        days = (today - slipped.first).days
        text = (
            f"{plural(slipped.count, 'milestone')} {verb} past due and still planned "
            f"(oldest due {slipped.first}, {days} days ago)."
        )
    count = Decimal(slipped.count)
    severity = ramp(count, ZERO, SLIPPED_FULL_COUNT)
    return _factor("slipped_milestones", count, severity, text)


def unapproved_time(inputs: HealthInputs, today: date) -> HealthFactor:
    """Hours submitted more than 14 days ago and still awaiting approval."""
    stale = inputs.stale_time
    hours = hours_to_decimal(stale.total)
    if not stale.count:
        text = f"No submitted time has waited more than {STALE_AFTER_DAYS} days for approval."
    else:
        entries = plural(stale.count, "time entry", "time entries")
        verb = "has" if stale.count == 1 else "have"
        text = (
            f"{hours} hours in {entries} {verb} waited more than {STALE_AFTER_DAYS} days "
            f"for approval (oldest submitted {stale.first})."
        )
    severity = ramp(hours, ZERO, STALE_FULL_HOURS)
    return _factor("unapproved_time", hours, severity, text)


def open_change_orders(inputs: HealthInputs, today: date) -> HealthFactor:
    """Change orders submitted and not yet decided."""
    orders = inputs.open_change_orders
    if not orders.count:
        text = "No change order is awaiting a decision."
    else:
        verb = "is" if orders.count == 1 else "are"
        text = (
            f"{plural(orders.count, 'change order')} {verb} awaiting a decision "
            f"(oldest submitted {orders.first})."
        )
    count = Decimal(orders.count)
    severity = ramp(count, ZERO, CHANGE_ORDERS_FULL_COUNT)
    return _factor("open_change_orders", count, severity, text)


def no_renewal_near_end(inputs: HealthInputs, today: date) -> HealthFactor:
    """Active or signed engagements ending soon while no opportunity is open."""
    ending, opportunities = inputs.ending_engagements, inputs.open_opportunities
    if not ending.count:
        text = f"No active or signed engagement ends within {RENEWAL_WINDOW_DAYS} days."
        return _factor("no_renewal_near_end", ZERO, ZERO, text)
    verb = "ends" if ending.count == 1 else "end"
    by = today + timedelta(days=RENEWAL_WINDOW_DAYS)
    head = (
        f"{plural(ending.count, 'active or signed engagement')} {verb} by {by} "
        f"(earliest end date {ending.first})"
    )
    if opportunities:
        opps = plural(opportunities, "open opportunity", "open opportunities")
        return _factor("no_renewal_near_end", ZERO, ZERO, f"{head}; the account has {opps}.")
    text = f"{head} and the account has no open opportunity."
    return _factor("no_renewal_near_end", Decimal(ending.count), ONE, text)


FACTORS: tuple[Factor, ...] = (
    budget_burn_ahead_of_progress,
    overdue_receivables,
    slipped_milestones,
    unapproved_time,
    open_change_orders,
    no_renewal_near_end,
)
"""The six factors in the order they are reported; their weights sum to 100."""
