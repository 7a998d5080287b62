"""Money and hours as exact fixed-point numbers.

The read model stores money as an integer count of minor units (hundredths of the currency
unit) and hours as an integer count of hundredths of an hour. Integers add up exactly on both
SQLite and PostgreSQL, so sums computed in SQL are exact; conversion to ``Decimal`` happens
at the edge. Limit: every currency is treated as having two decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CENTS = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str

    @classmethod
    def from_minor(cls, minor: int | None, currency: str) -> Money:
        """Build from a stored minor-unit integer (``None`` counts as zero)."""
        return cls(minor_to_decimal(minor or 0), currency)


def minor_to_decimal(minor: int) -> Decimal:
    """``12345`` → ``Decimal('123.45')``."""
    return (Decimal(int(minor)) / HUNDRED).quantize(CENTS)


def decimal_to_minor(amount: Decimal | str | int) -> int:
    """``Decimal('123.455')`` → ``12346`` (banker's rounding to the cent)."""
    return int((Decimal(amount) * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def hours_to_decimal(hundredths: int | None) -> Decimal:
    """Stored hundredths of an hour → hours, e.g. ``750`` → ``Decimal('7.50')``."""
    return (Decimal(int(hundredths or 0)) / HUNDRED).quantize(CENTS)


def value_of_time(hours_x100_times_rate_minor: int | None) -> Decimal:
    """Σ(hours_x100 × rate_minor) → an amount in currency units, rounded to the cent.

    hours_x100 × rate_minor is in 1/10,000 of a currency unit; SQL sums it exactly as an integer.
    """
    total = Decimal(int(hours_x100_times_rate_minor or 0)) / Decimal(10_000)
    return total.quantize(CENTS, rounding=ROUND_HALF_EVEN)
