"""Exact arithmetic and the wording of numbers in explanations."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from readmodel.money import CENTS

RATIO_PLACES = Decimal("0.0001")
ZERO_MONEY = Decimal("0.00")


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """``numerator ÷ denominator`` rounded half-even to 4 places; ``None`` if the divisor is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, ROUND_HALF_EVEN)


def to_cents(amount: Decimal) -> Decimal:
    """An amount rounded half-even to the cent."""
    return amount.quantize(CENTS, ROUND_HALF_EVEN)


def per_10k(total: int) -> Decimal:
    """An integer sum in 1/10,000 of a unit (e.g. minor units × percent) → units, to the cent."""
    return to_cents(Decimal(total) / Decimal(10_000))


def percent(fraction: Decimal) -> str:
    """``Decimal('0.9612')`` → ``'96%'`` (whole percent, half-even)."""
    return f"{(fraction * 100).quantize(Decimal(1), ROUND_HALF_EVEN)}%"


def amount(value: Decimal, currency: str) -> str:
    """``Decimal('2300.00'), 'EUR'`` → ``'EUR 2,300.00'``."""
    return f"{currency} {value:,.2f}"


def plural(count: int | Decimal, singular: str, plural_form: str | None = None) -> str:
    """``3, 'milestone'`` → ``'3 milestones'``; ``1, 'milestone'`` → ``'1 milestone'``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
