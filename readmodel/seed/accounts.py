"""Clients and their pipeline: accounts (with hierarchy), contacts, opportunities, contracts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from readmodel.enums import AccountStatus, ContactStatus, EngagementStatus, OpportunityStage
from readmodel.seed.catalog import SERVICE_LINES, Catalog
from readmodel.seed.context import Row, SeedContext
from readmodel.seed.delivery import add_projects
from readmodel.seed.names import (
    COMPANY_FIRST,
    COMPANY_SECOND,
    COMPANY_SUFFIX,
    FIRST_NAMES,
    INDUSTRY_OF,
    LAST_NAMES,
    OWNERS,
    SUBSIDIARY,
    TITLES,
)

OPEN_STAGES = {
    OpportunityStage.PROSPECTING: 10,
    OpportunityStage.QUALIFICATION: 25,
    OpportunityStage.PROPOSAL: 50,
    OpportunityStage.NEGOTIATION: 75,
}
BILLING_MIX = (
    ("time_and_materials", 40),
    ("fixed_fee", 20),
    ("milestone", 20),
    ("retainer", 15),
    ("non_billable", 5),
)


def add_account(ctx: SeedContext, catalog: Catalog, parent: Row | None) -> Row:
    """One client with everything it has: contacts, deals, contracts and their delivery."""
    account = _account(ctx, parent)
    for _ in range(ctx.rng.randint(2, 4)):
        _contact(ctx, account)
    for _ in range(ctx.rng.randint(1, 3)):
        _opportunity(ctx, account, won=False)
    if account["status"] != AccountStatus.PROSPECT.value:
        engagements = ctx.rng.choice((1, 2, 3, 3, 4, 5))
        for _ in range(engagements):
            _engagement(ctx, catalog, account)
        _xref(ctx, account)
    return account


def _account(ctx: SeedContext, parent: Row | None) -> Row:
    rng = ctx.rng
    aid = ctx.new_id("account")
    second = rng.choice(COMPANY_SECOND)
    if parent is None:
        name = f"{rng.choice(COMPANY_FIRST)} {second} {rng.choice(COMPANY_SUFFIX)}"
        currency = "USD" if rng.random() < 0.7 else "EUR"
        industry = INDUSTRY_OF[second]
    else:
        name = f"{parent['name']} {rng.choice(SUBSIDIARY)}"
        currency, industry = parent["currency"], parent["industry"]
    roll = rng.random()
    status = (
        AccountStatus.PROSPECT
        if roll < 0.1
        else AccountStatus.INACTIVE
        if roll < 0.17
        else (AccountStatus.ACTIVE)
    )
    lineage = ctx.lineage("account", aid, "salesforce", ctx.days_ago(0, 200))
    return ctx.add(
        "account",
        {
            **lineage,
            "name": name,
            "parent_id": None if parent is None else parent["id"],
            "industry": industry,
            "owner_name": rng.choice(OWNERS),
            "currency": currency,
            "billing_terms_days": rng.choice((30, 30, 45, 60)),
            "status": status.value,
            "domain": f"{name.split()[0].lower()}-{second.lower()}-{aid}.example",
            "updated_at": lineage["source_version"],
        },
    )


def _xref(ctx: SeedContext, account: Row) -> None:
    """The client's ERP customer id: the cross-reference of one client in two systems."""
    xid = ctx.new_id("account_xref")
    ctx.add(
        "account_xref",
        {
            "id": xid,
            "account_id": account["id"],
            "system": "netsuite",
            "object_type": "customer",
            "source_id": str(500_000 + account["id"]),
            "source_version": account["source_version"],
            "synced_at": ctx.synced_at,
        },
    )


def _contact(ctx: SeedContext, account: Row) -> None:
    rng = ctx.rng
    cid = ctx.new_id("contact")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    ctx.add(
        "contact",
        {
            **ctx.lineage("contact", cid, "salesforce", ctx.days_ago(0, 300)),
            "account_id": account["id"],
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}@{account['domain']}".lower(),
            "title": rng.choice(TITLES),
            "status": (
                ContactStatus.ACTIVE if rng.random() < 0.9 else ContactStatus.INACTIVE
            ).value,
        },
    )


def _opportunity(
    ctx: SeedContext,
    account: Row,
    *,
    won: bool,
    amount: int | None = None,
    close: date | None = None,
    line: str | None = None,
) -> Row:
    rng = ctx.rng
    oid = ctx.new_id("opportunity")
    if won:
        stage, probability = OpportunityStage.CLOSED_WON, 100
    elif rng.random() < 0.25:
        stage, probability = OpportunityStage.CLOSED_LOST, 0
        close = ctx.days_ago(10, 300)
    else:
        stage, probability = rng.choice(list(OPEN_STAGES.items()))
        close = ctx.today + timedelta(days=rng.randint(5, 180))
    close = close or ctx.days_ago(0, 300)
    closed = stage in (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST)
    line = line or rng.choice(SERVICE_LINES)
    return ctx.add(
        "opportunity",
        {
            **ctx.lineage("opportunity", oid, "salesforce", min(close, ctx.today)),
            "account_id": account["id"],
            "name": f"{account['name'].split()[0]} {line} {close.year}",
            "stage": stage.value,
            "probability": probability,
            "amount_minor": amount or rng.randrange(20_000, 600_000) * 100,
            "currency": account["currency"],
            "close_date": close,
            "owner_name": account["owner_name"],
            "service_line": line,
            "is_won": stage is OpportunityStage.CLOSED_WON,
            "is_closed": closed,
            "closed_at": datetime.combine(close, time(17), UTC) if closed else None,
        },
    )


def _engagement(ctx: SeedContext, catalog: Catalog, account: Row) -> None:
    rng = ctx.rng
    start = ctx.today + timedelta(days=rng.randint(-420, 45))
    end = start + timedelta(days=rng.choice((90, 120, 180, 270, 365)))
    line = rng.choice(SERVICE_LINES)
    method = rng.choices([m for m, _ in BILLING_MIX], [w for _, w in BILLING_MIX])[0]
    won = _opportunity(
        ctx,
        account,
        won=True,
        close=start - timedelta(days=rng.randint(7, 30)),
        line=line,
        amount=rng.randrange(20_000, 250_000) * 100,
    )
    if account["status"] == AccountStatus.INACTIVE.value:
        end = min(end, ctx.today - timedelta(days=rng.randint(1, 60)))
        start = min(start, end - timedelta(days=60))
    status = _engagement_status(ctx, start, end)
    eid = ctx.new_id("engagement")
    engagement = ctx.add(
        "engagement",
        {
            **ctx.lineage("engagement", eid, "netsuite", min(start, ctx.today)),
            "account_id": account["id"],
            "opportunity_id": won["id"],
            "name": f"{line} SOW {eid}",
            "billing_method": method if method != "non_billable" else "time_and_materials",
            "sold_value_minor": won["amount_minor"],
            "currency": account["currency"],
            "start_date": start,
            "end_date": end,
            "signed_at": None if status is EngagementStatus.DRAFT else won["closed_at"],
            "status": status.value,
        },
    )
    add_projects(ctx, catalog, account, engagement, line, method)


def _engagement_status(ctx: SeedContext, start: date, end: date) -> EngagementStatus:
    if end < ctx.today:
        return EngagementStatus.CLOSED
    if start > ctx.today:
        return EngagementStatus.DRAFT if ctx.rng.random() < 0.3 else EngagementStatus.SIGNED
    return EngagementStatus.ACTIVE
