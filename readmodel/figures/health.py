"""Client health: 100 minus the penalties of six explained factors, and a status colour.

Formulas, weights and worked examples: docs/formulas.md, "Client health".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.figures.health_factors import FACTORS, HealthFactor
from readmodel.figures.health_inputs import HealthInputs, health_inputs
from readmodel.figures.sql import ACCOUNT, live

GREEN_FROM = 75
AMBER_FROM = 50


@dataclass(frozen=True)
class AccountHealth:
    """An explained health score of one account (its own records; children not rolled up)."""

    account_id: int
    score: int
    status: str
    factors: list[HealthFactor]


async def account_health(
    conn: AsyncConnection, account_ids: Sequence[int], today: date
) -> dict[int, AccountHealth]:
    """Health of the live accounts among ``account_ids`` (11 statements; 0 for no ids).

    Args:
        conn: An open connection to the read model.
        account_ids: The accounts wanted; unknown or soft-deleted ids are absent.
        today: The date overdue, slipped, stale and ending are measured against.

    Returns:
        The health keyed by account id.
    """
    if not account_ids:
        return {}
    ids = set(account_ids)
    found = await conn.execute(select(ACCOUNT.c.id).where(live(ACCOUNT), ACCOUNT.c.id.in_(ids)))
    live_ids = sorted(row.id for row in found)
    inputs = await health_inputs(conn, sorted(ids), today)
    return {account_id: score(account_id, inputs[account_id], today) for account_id in live_ids}


def score(account_id: int, inputs: HealthInputs, today: date) -> AccountHealth:
    """Apply the six factors to one account's inputs (pure, no SQL)."""
    factors = [factor(inputs, today) for factor in FACTORS]
    points = Decimal(100) - sum((f.penalty for f in factors), Decimal(0))
    rounded = max(0, min(100, int(points.quantize(Decimal(1), ROUND_HALF_EVEN))))
    return AccountHealth(account_id, rounded, status_of(rounded), factors)


def status_of(points: int) -> str:
    """``"green"`` from 75, ``"amber"`` from 50, else ``"red"``."""
    if points >= GREEN_FROM:
        return "green"
    if points >= AMBER_FROM:
        return "amber"
    return "red"
