"""The readiness check: is everything a project needs known, and valid, before any write?

``gather`` reads what the read model holds about the won deal (a handful of statements);
``plan_of`` resolves each fact from the most specific source (data a person supplied on the
handoff, then the signed engagement, then the opportunity); ``check`` is pure: it lists what
is missing, who owns fixing it, and a score (the share of checks passed, 0–100).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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

    @property
    def passed(self) -> int:
        """The checks passed (of ``CHECKS``)."""
        return passed_of(self.missing)


def passed_of(missing: Sequence[Missing]) -> int:
    return CHECKS - min(len(missing), CHECKS)


async def gather(conn: AsyncConnection, opportunity_id: int, inputs_json: str) -> Facts:
    """The deal, its client, its engagement, its ERP customer and its rate card."""
    found = await gather_many(conn, {opportunity_id: inputs_json})
    if opportunity_id not in found:
        raise LookupError(f"no opportunity {opportunity_id}")
    return found[opportunity_id]


async def gather_many(conn: AsyncConnection, inputs: Mapping[int, str]) -> dict[int, Facts]:
    """``gather`` for a batch of deals (by id → supplied data as JSON), in at most six
    statements whatever the batch: deals, clients, engagements, ERP links, cards, rates."""
    deals = await _rows(conn, OPPORTUNITY, OPPORTUNITY.c.id.in_(list(inputs)))
    accounts = await _rows(conn, ACCOUNT, ACCOUNT.c.id.in_({d.account_id for d in deals}))
    by_account = {a.id: a for a in accounts}
    engagements = await _engagements(conn, [d.id for d in deals])
    customers = await _customers(conn, accounts, {route_for(d.source_system).erp for d in deals})
    given = {d.id: json.loads(inputs[d.id]) for d in deals}
    wanted = {d.id: _card_key(d, engagements.get(d.id), given[d.id]) for d in deals}
    cards = await _rate_cards(conn, set(wanted.values()))
    rates = await _rates(conn, [c.id for c in cards.values()])
    out = {}
    for d in deals:
        account, route, card = (
            by_account[d.account_id],
            route_for(d.source_system),
            cards.get(wanted[d.id]),
        )
        customer = str(account.source_id) if account.source_system == route.erp else None
        customer = customer or customers.get((account.id, route.erp))
        out[d.id] = Facts(
            d, account, engagements.get(d.id), given[d.id], customer, card,
            rates.get(card.id, {}) if card is not None else {}, route,
        )  # fmt: skip
    return out


CardKey = tuple[str | None, str, str]  # service line, currency sold in, ERP


def _card_key(deal: Row[Any], engagement: Row[Any] | None, given: dict[str, Any]) -> CardKey:
    line = given.get("service_line") or deal.service_line
    currency = engagement.currency if engagement is not None else deal.currency
    return (line, currency, route_for(deal.source_system).erp)  # the currency sold in


async def _rows(conn: AsyncConnection, table: Any, where: Any) -> list[Row[Any]]:
    return list(await conn.execute(select(table).where(where)))


async def _engagements(conn: AsyncConnection, deal_ids: list[int]) -> dict[int, Row[Any]]:
    """Each deal's newest live engagement."""
    e = ENGAGEMENT.c
    stmt = select(ENGAGEMENT).where(e.opportunity_id.in_(deal_ids), e.deleted_at.is_(None))
    out: dict[int, Row[Any]] = {}
    for row in await conn.execute(stmt.order_by(e.id.desc())):
        out.setdefault(row.opportunity_id, row)
    return out


async def _customers(
    conn: AsyncConnection, accounts: list[Row[Any]], erps: set[str]
) -> dict[tuple[int, str], str]:
    """(account, ERP) → the ERP record linked to the account (the first link). The account
    itself is the customer when the ERP is the account master (a Tryton party)."""
    if not accounts:
        return {}
    x = XREF.c
    stmt = select(x.account_id, x.system, x.source_id).where(
        x.account_id.in_([a.id for a in accounts]), x.system.in_(erps)
    )
    out: dict[tuple[int, str], str] = {}
    for row in await conn.execute(stmt.order_by(x.id)):
        out.setdefault((row.account_id, row.system), str(row.source_id))
    return out


async def _rate_cards(conn: AsyncConnection, keys: set[CardKey]) -> dict[CardKey, Row[Any]]:
    """Each service line's effective card in a currency, of an ERP (the newest, if several)."""
    lines = {line for line, _, _ in keys if line is not None}
    if not lines:
        return {}
    c = RATE_CARD.c
    stmt = select(RATE_CARD).where(
        c.service_line.in_(lines), c.status == "effective", c.deleted_at.is_(None)
    )
    out: dict[CardKey, Row[Any]] = {}
    for row in await conn.execute(stmt.order_by(c.effective_from.desc(), c.id.desc())):
        key = (row.service_line, row.currency, row.source_system)
        if key in keys:
            out.setdefault(key, row)
    return out


async def _rates(
    conn: AsyncConnection, card_ids: list[int]
) -> dict[int, dict[str, tuple[int, int]]]:
    if not card_ids:
        return {}
    r = RATE_LINE.c
    stmt = select(r.rate_card_id, r.role, r.bill_rate_minor, r.cost_rate_minor).where(
        r.rate_card_id.in_(card_ids), r.deleted_at.is_(None)
    )
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for row in await conn.execute(stmt):
        out.setdefault(row.rate_card_id, {})[row.role] = (row.bill_rate_minor, row.cost_rate_minor)
    return out


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
    score = round(100 * passed_of(missing) / CHECKS)
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
