"""The outlook's factors: each figure with the sentence that shows how it was made."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from readmodel.figures.numbers import amount, percent

if TYPE_CHECKING:
    from readmodel.forecasts.outlook import Outlook, Trend

Factor = tuple[str, Decimal | None, str]


def factors(o: Outlook) -> list[Factor]:
    """team_estimate, recent_trend, hours_vs_progress, budget: always all four."""
    return [_team(o), _trend(o), _hours(o), _budget(o)]


def _team(o: Outlook) -> Factor:
    etc = o.team_eac - o.cost_to_date
    text = (
        f"Cost to date {amount(o.cost_to_date, o.currency)} + the team's estimate to complete "
        f"{amount(etc, o.currency)} = {amount(o.team_eac, o.currency)}."
    )
    return ("team_estimate", o.team_eac, text)


def _trend(o: Outlook) -> Factor:
    t = o.trend
    if t is None:
        return ("recent_trend", None, "No end date: the recent trend cannot be projected.")
    eac = o.trend_eac
    assert eac is not None
    return ("recent_trend", eac, _trend_text(o, t, eac))


def _trend_text(o: Outlook, t: Trend, eac: Decimal) -> str:
    c = o.currency
    return (
        f"{amount(t.recent_cost, c)} of cost logged in the {t.window_days} working days "
        f"{t.start} to {t.end} ({amount(t.daily, c)} a day); × {t.days_left} working days to "
        f"the end date {t.end_date} = {amount(t.to_go, c)} to go; "
        f"{amount(o.cost_to_date, c)} + {amount(t.to_go, c)} = {amount(eac, c)}."
    )


def _hours(o: Outlook) -> Factor:
    if o.hours_burn is None or o.percent_complete is None:
        return ("hours_vs_progress", None, "No budget hours or no cost yet: nothing to compare.")
    gap = o.hours_burn - o.percent_complete
    side = "ahead of" if gap > 0 else "behind" if gap < 0 else "level with"
    text = (
        f"{percent(o.hours_burn)} of the budget hours used at {percent(o.percent_complete)} "
        f"complete (cost to cost): hours run {percent(abs(gap))} {side} progress."
    )
    return ("hours_vs_progress", gap, text)


def _budget(o: Outlook) -> Factor:
    c = o.currency
    if not o.budget:
        return ("budget", None, "No budget: no overrun can be measured.")
    low, high = o.low - o.budget, o.high - o.budget
    text = (
        f"Estimates {amount(o.low, c)} to {amount(o.high, c)} against a budget of "
        f"{amount(o.budget, c)}: {_signed(low, c)} to {_signed(high, c)}."
    )
    return ("budget", high, text)


def _signed(value: Decimal, currency: str) -> str:
    return f"{amount(abs(value), currency)} {'over' if value > 0 else 'under'}"
