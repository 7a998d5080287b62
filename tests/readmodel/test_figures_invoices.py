"""Days overdue: posted or partially paid, due before today, a balance left."""

from __future__ import annotations

from datetime import date

import pytest

from readmodel.figures import days_overdue

TODAY = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("status", "due", "balance", "days"),
    [
        ("posted", date(2026, 5, 31), 1, 30),
        ("partially_paid", date(2026, 6, 20), 100_000, 10),
        ("posted", date(2026, 6, 29), 1, 1),
        ("posted", TODAY, 1, 0),  # due today: not yet overdue
        ("posted", date(2026, 7, 20), 1, 0),
        ("posted", date(2026, 5, 31), 0, 0),  # nothing left to pay
        ("posted", date(2026, 5, 31), -500, 0),  # a credit balance
        ("paid", date(2026, 5, 31), 1, 0),
        ("draft", date(2026, 5, 31), 1, 0),
        ("void", date(2026, 5, 31), 1, 0),
    ],
)
def test_days_overdue(status: str, due: date, balance: int, days: int) -> None:
    assert days_overdue(status, due, balance, TODAY) == days
