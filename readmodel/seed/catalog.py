"""The firm itself: its people, roles, service lines and versioned rate cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from readmodel.enums import RateCardStatus
from readmodel.seed.context import CURRENCIES, SeedContext
from readmodel.seed.names import FIRST_NAMES, LAST_NAMES

# Standard bill rate per hour in USD minor units; cost is 45%; EUR rates are 90% of USD.
ROLE_RATES = {
    "Partner": 45_000,
    "Principal": 35_000,
    "Senior Consultant": 25_000,
    "Engineer": 20_000,
    "Consultant": 18_000,
    "Analyst": 12_000,
}
ROLES = tuple(ROLE_RATES)
NEGOTIATED = (95, 90, 85)
"""Discounted cards (percent of the list rates) a client negotiated: its projects bill at its
card's rates, so a discount is not a rate off the card (timeAnomalies)."""
SERVICE_LINES = (
    "Strategy",
    "Cloud Migration",
    "Data & Analytics",
    "Managed Services",
    "Cybersecurity",
)


@dataclass(frozen=True)
class Rates:
    bill: int
    cost: int


@dataclass
class Catalog:
    """What every account's projects draw on."""

    people: list[tuple[int, str]]  # (person id, role)
    rate_cards: dict[tuple[str, str, int], int]  # (line, currency, % of list) → current card
    rates: dict[tuple[str, str], Rates]  # (currency, role) → current standard rates


def build_catalog(ctx: SeedContext, accounts: int) -> Catalog:
    """Add people and rate cards to ``ctx.rows``; return what projects need of them."""
    people = [_person(ctx, i) for i in range(accounts * 4 // 5 + 20)]
    rates = {
        (cur, role): Rates(bill=_in(cur, usd), cost=_in(cur, usd) * 45 // 100)
        for cur in CURRENCIES
        for role, usd in ROLE_RATES.items()
    }
    cards = {}
    for line in SERVICE_LINES:
        for cur in CURRENCIES:
            _rate_card(ctx, line, cur, current=False, rates=rates)
            for share in NEGOTIATED:  # before the list card: the newest id is the list's
                cards[(line, cur, share)] = _rate_card(
                    ctx, line, cur, current=True, rates=rates, share=share
                )
            cards[(line, cur, 100)] = _rate_card(ctx, line, cur, current=True, rates=rates)
    return Catalog(people=people, rate_cards=cards, rates=rates)


def _in(currency: str, usd_minor: int) -> int:
    return usd_minor if currency == "USD" else usd_minor * 9 // 10


def _person(ctx: SeedContext, index: int) -> tuple[int, str]:
    rng = ctx.rng
    pid = ctx.new_id("person")
    role = ROLES[index % len(ROLES)] if index < len(ROLES) else rng.choice(ROLES[1:])
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    ctx.add(
        "person",
        {
            **ctx.lineage("person", pid, "netsuite", ctx.days_ago(1, 400)),
            "name": f"{first} {last}",
            "email": f"{first}.{last}{pid}@clientgraph-firm.example".lower(),
            "role": role,
            "weekly_capacity_hours_x100": 3200 if rng.random() < 0.15 else 4000,
            "active": True,
        },
    )
    return pid, role


def _rate_card(
    ctx: SeedContext,
    line: str,
    currency: str,
    *,
    current: bool,
    rates: dict[tuple[str, str], Rates],
    share: int = 100,
) -> int:
    card_id = ctx.new_id("rate_card")
    start = ctx.today - timedelta(days=365 if current else 730)
    ctx.add(
        "rate_card",
        {
            **ctx.lineage("rate_card", card_id, "netsuite", start),
            "name": f"{line} {currency} {start.year}" + ("" if share == 100 else f" at {share}%"),
            "service_line": line,
            "currency": currency,
            "effective_from": start,
            "effective_to": None if current else ctx.today - timedelta(days=366),
            "status": (RateCardStatus.EFFECTIVE if current else RateCardStatus.SUPERSEDED).value,
        },
    )
    for role in ROLES:
        line_id = ctx.new_id("rate_card_line")
        r = rates[(currency, role)]
        uplift = 100 if current else 95  # last year's card: 5% lower
        ctx.add(
            "rate_card_line",
            {
                **ctx.lineage("rate_card_line", line_id, "netsuite", start),
                "rate_card_id": card_id,
                "role": role,
                "bill_rate_minor": r.bill * uplift * share // 10_000,
                "cost_rate_minor": r.cost * uplift // 100,
            },
        )
    return card_id
