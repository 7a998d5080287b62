"""The readiness check: is everything a project needs known, and valid, before any write?

``gather`` reads what the read model holds about the won deal (a handful of statements);
``plan_of`` resolves each fact from the most specific source (data a person supplied on the
handoff, then the signed engagement, then the opportunity); ``check`` is pure: it lists what
is missing, who owns fixing it, and a score (the share of checks passed, 0–100).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.money import decimal_to_minor
from readmodel.tables import (
    Account,
    AccountXref,
    Engagement,
    Opportunity,
    RateCard,
    RateCardLine,
    table_of,
)
from sync_jobs.handoff.routes import Route, route_for
from sync_jobs.handoff.templates import BILLING_METHODS, Template, template_for

OPPORTUNITY, ACCOUNT = table_of(Opportunity), table_of(Account)
ENGAGEMENT, XREF = table_of(Engagement), table_of(AccountXref)
RATE_CARD, RATE_LINE = table_of(RateCard), table_of(RateCardLine)
SALES, FINANCE, PMO = "Sales (opportunity owner)", "Finance (billing)", "PMO (delivery setup)"
CHECKS = 7  # service line, sold value, start date, billing method, customer, rate card, milestones


@dataclass(frozen=True)
class Facts:
    """What the read model knows about one won deal, and what people supplied."""

    opportunity: Row[Any]
    account: Row[Any]
    engagement: Row[Any] | None
    inputs: dict[str, Any]
    customer_source_id: str | None
    rate_card: Row[Any] | None
    rates: dict[str, tuple[int, int]]  # role → (bill, cost)
    route: Route  # which systems the steps write


@dataclass(frozen=True)
class Milestone:
    name: str
    due_date: date
    amount_minor: int


@dataclass(frozen=True)
class Plan:
    """The resolved facts a project is built from (``None``: unknown)."""

    service_line: str | None
    template: Template | None
    sold_minor: int
    currency: str
    billing_method: str | None
    start_date: date | None
    manager_name: str | None
    milestones: tuple[Milestone, ...]


@dataclass(frozen=True)
class Missing:
    """One thing to fix before the handoff can go on, and who owns fixing it."""

    field: str
    message: str
    owner: str

    def as_text(self) -> str:
        return f"{self.field}: {self.message} (owner: {self.owner})"


@dataclass(frozen=True)
class Readiness:
    score: int
    missing: tuple[Missing, ...]

    @property
    def ready(self) -> bool:
        return not self.missing


async def gather(conn: AsyncConnection, opportunity_id: int, inputs_json: str) -> Facts:
    """The deal, its client, its engagement, its ERP customer and its rate card."""
    deal = (await conn.execute(select(OPPORTUNITY).where(OPPORTUNITY.c.id == opportunity_id))).one()
    account = (await conn.execute(select(ACCOUNT).where(ACCOUNT.c.id == deal.account_id))).one()
    engagement = await _engagement(conn, opportunity_id)
    route = route_for(deal.source_system)
    customer = await _customer(conn, account, route.erp)
    inputs = json.loads(inputs_json)
    line = inputs.get("service_line") or deal.service_line
    currency = engagement.currency if engagement is not None else deal.currency
    card = await _rate_card(conn, line, currency, route.erp)  # the currency sold in
    rates = await _rates(conn, card.id) if card is not None else {}
    return Facts(deal, account, engagement, inputs, customer, card, rates, route)


async def _engagement(conn: AsyncConnection, opportunity_id: int) -> Row[Any] | None:
    e = ENGAGEMENT.c
    stmt = select(ENGAGEMENT).where(e.opportunity_id == opportunity_id, e.deleted_at.is_(None))
    return (await conn.execute(stmt.order_by(e.id.desc()).limit(1))).first()


async def _customer(conn: AsyncConnection, account: Row[Any], erp: str) -> str | None:
    """The ERP's customer: the account itself when the ERP is the account master (a
    Tryton party is the client), else the ERP record linked to it."""
    if account.source_system == erp:
        return str(account.source_id)
    x = XREF.c
    stmt = select(x.source_id).where(x.account_id == account.id, x.system == erp).order_by(x.id)
    return (await conn.execute(stmt.limit(1))).scalar_one_or_none()


async def _rate_card(
    conn: AsyncConnection, line: str | None, currency: str, erp: str
) -> Row[Any] | None:
    """The service line's effective card in the client's currency (the newest, if several)."""
    if line is None:
        return None
    c = RATE_CARD.c
    stmt = select(RATE_CARD).where(
        c.service_line == line,
        c.currency == currency,
        c.status == "effective",
        c.deleted_at.is_(None),
        c.source_system == erp,
    )
    return (await conn.execute(stmt.order_by(c.effective_from.desc()).limit(1))).first()


async def _rates(conn: AsyncConnection, card_id: int) -> dict[str, tuple[int, int]]:
    r = RATE_LINE.c
    stmt = select(r.role, r.bill_rate_minor, r.cost_rate_minor).where(
        r.rate_card_id == card_id, r.deleted_at.is_(None)
    )
    return {
        row.role: (row.bill_rate_minor, row.cost_rate_minor) for row in await conn.execute(stmt)
    }


def plan_of(facts: Facts) -> Plan:
    """Each fact from the most specific source: supplied data, engagement, opportunity."""
    deal, eng, given = facts.opportunity, facts.engagement, facts.inputs
    line = given.get("service_line") or deal.service_line
    sold, currency = (
        (eng.sold_value_minor, eng.currency)
        if eng is not None
        else (deal.amount_minor, deal.currency)
    )
    start = given.get("start_date") or (eng.start_date.isoformat() if eng is not None else None)
    return Plan(
        service_line=line,
        template=template_for(line),
        sold_minor=int(sold),
        currency=str(currency),
        billing_method=given.get("billing_method") or (eng.billing_method if eng else None),
        start_date=_date(start),
        manager_name=given.get("manager_name"),
        milestones=_milestones(given.get("milestones") or []),
    )


def check(facts: Facts, plan: Plan) -> Readiness:
    """What is missing or invalid, with its owner; the score is the share of checks passed."""
    missing = [m for m in _problems(facts, plan) if m is not None]
    score = round(100 * (CHECKS - min(len(missing), CHECKS)) / CHECKS)
    return Readiness(score, tuple(missing))


def _problems(facts: Facts, plan: Plan) -> list[Missing | None]:
    name = facts.opportunity.owner_name
    owner = f"Sales (opportunity owner: {name})" if name else SALES
    return [
        _need(plan.template is not None, "serviceLine", "no service line with a template", owner),
        _need(plan.sold_minor > 0, "soldValue", "the sold value must be above zero", owner),
        _need(plan.start_date is not None, "startDate", "no start date", PMO),
        _need(
            plan.billing_method in BILLING_METHODS, "billingMethod", "no billing method", FINANCE
        ),
        _need(
            facts.customer_source_id is not None or bool(facts.account.name),
            "customer",
            "no ERP customer and no client name to create one",
            FINANCE,
        ),
        _need(
            facts.rate_card is not None or not facts.route.rate_cards,
            "rateCard",
            _no_card(plan),
            PMO,
        ),
        _milestone_problem(plan, owner),
    ]


def _need(ok: bool, name: str, message: str, owner: str) -> Missing | None:
    return None if ok else Missing(name, message, owner)


def _no_card(plan: Plan) -> str:
    return f"no effective rate card for {plan.service_line or '?'} in {plan.currency}"


def _milestone_problem(plan: Plan, owner: str) -> Missing | None:
    """Milestone billing needs milestones whose amounts add up to the sold value exactly."""
    if plan.billing_method != "milestone":
        return None
    if not plan.milestones:
        return Missing("milestones", "milestone billing needs milestones", owner)
    total = sum(m.amount_minor for m in plan.milestones)
    if total != plan.sold_minor:
        text = f"milestones add up to {Decimal(total).scaleb(-2)}, "
        text += f"the sold value is {Decimal(plan.sold_minor).scaleb(-2)} {plan.currency}"
        return Missing("milestones", text, owner)
    return None


def _date(text: Any) -> date | None:
    try:
        return None if not text else date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _milestones(items: list[dict[str, Any]]) -> tuple[Milestone, ...]:
    """Supplied milestones; one with a bad date or amount is dropped, so the check fails."""
    found = []
    for item in items:
        due = _date(item.get("due_date"))
        try:
            amount = decimal_to_minor(Decimal(str(item.get("amount"))))
        except (InvalidOperation, ValueError):
            continue
        if due is not None and item.get("name"):
            found.append(Milestone(str(item["name"]), due, amount))
    return tuple(found)
