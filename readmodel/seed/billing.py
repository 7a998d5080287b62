"""Billing and collection: invoices by billing method, and the payments against them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from readmodel.enums import InvoiceStatus, MilestoneStatus, PaymentStatus, TimeEntryStatus
from readmodel.forecasts.retainers import fees
from readmodel.money import decimal_to_minor, value_of_time
from readmodel.seed.context import Row, SeedContext

UNBILLED_AFTER_DAYS = 30  # approved time younger than this has not been invoiced yet


def bill_project(
    ctx: SeedContext, account: Row, project: Row, entries: list[Row], milestones: list[Row]
) -> None:
    """Issue the invoices the project's billing method implies, up to today."""
    method = project["billing_method"]
    if method in ("time_and_materials", "retainer"):
        _bill_time(ctx, account, project, entries, retainer=method == "retainer")
    elif method == "fixed_fee":
        _bill_instalments(ctx, account, project)
    elif method == "milestone":
        for m in milestones:
            if m["status"] == MilestoneStatus.INVOICED.value:
                issue = min(m["completed_at"].date() + timedelta(days=3), ctx.today)
                _invoice(ctx, account, project, issue, m["amount_minor"])


def _bill_time(
    ctx: SeedContext, account: Row, project: Row, entries: list[Row], *, retainer: bool
) -> None:
    """One invoice per month of approved time, on the 1st of the month after; a retainer's
    is that month's fee (``readmodel.forecasts.retainers``: the handoff's rule), its time
    after the term's last month billed as time. (One invoice per month of time either way:
    the random draws, so the rest of the firm, do not depend on the billing method.)"""
    by_month: dict[date, list[Row]] = defaultdict(list)
    cutoff = ctx.today - timedelta(days=UNBILLED_AFTER_DAYS)
    for e in entries:
        if e["status"] == TimeEntryStatus.APPROVED.value and e["work_date"] < cutoff:
            by_month[e["work_date"].replace(day=1)].append(e)
    start, end = project["start_date"], project["end_date"]
    fee_of = dict(fees(start, end, project["budget_minor"])) if retainer else {}
    for month in sorted(by_month):
        issue = min(_next_month(month), ctx.today)
        month_entries = by_month[month]
        total = fee_of.get(month)
        if total is None:
            raw = sum(e["hours_x100"] * e["bill_rate_minor"] for e in month_entries)
            total = decimal_to_minor(value_of_time(raw))
        invoice = _invoice(ctx, account, project, issue, total)
        if invoice["status"] != InvoiceStatus.VOID.value:
            for e in month_entries:
                e["status"], e["invoice_id"] = TimeEntryStatus.INVOICED.value, invoice["id"]


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _bill_instalments(ctx: SeedContext, account: Row, project: Row) -> None:
    """30% at kick-off, 40% at mid-point, the rest at the end."""
    start, end = project["start_date"], project["end_date"]
    budget = project["budget_minor"]
    plan = [(start, budget * 30 // 100), (start + (end - start) / 2, budget * 40 // 100)]
    plan.append((end, budget - plan[0][1] - plan[1][1]))
    for day, amount in plan:
        if day <= ctx.today:
            _invoice(ctx, account, project, day, amount)


def _invoice(ctx: SeedContext, account: Row, project: Row, issue: date, total: int) -> Row:
    rng = ctx.rng
    iid = ctx.new_id("invoice")
    due = issue + timedelta(days=account["billing_terms_days"])
    invoice = ctx.add(
        "invoice",
        {
            **ctx.lineage("invoice", iid, "netsuite", issue),
            "account_id": account["id"],
            "project_id": project["id"],
            "number": f"INV-{issue.year}-{iid:06d}",
            "currency": project["currency"],
            "issue_date": issue,
            "due_date": due,
            "total_minor": total,
            "balance_minor": total,
            "status": InvoiceStatus.POSTED.value,
        },
    )
    roll, age = rng.random(), (ctx.today - issue).days
    paid, partly = (0.90, 0.95) if age > 120 else (0.70, 0.82)  # old debts are mostly settled
    if age < 7 and roll < 0.4:
        invoice["status"] = InvoiceStatus.DRAFT.value
    elif roll < 0.03:
        invoice["status"], invoice["balance_minor"] = InvoiceStatus.VOID.value, 0
    elif roll < paid:
        _pay(ctx, invoice, total, InvoiceStatus.PAID)
    elif roll < partly:
        _pay(ctx, invoice, total * rng.randint(30, 70) // 100, InvoiceStatus.PARTIALLY_PAID)
    return invoice


def _pay(ctx: SeedContext, invoice: Row, amount: int, outcome: InvoiceStatus) -> None:
    """Record a payment if it would have arrived by today; otherwise the invoice stays open."""
    terms = (invoice["due_date"] - invoice["issue_date"]).days
    received = invoice["issue_date"] + timedelta(days=ctx.rng.randint(terms // 3, terms + 20))
    if received > ctx.today or amount <= 0:
        return
    pid = ctx.new_id("payment")
    ctx.add(
        "payment",
        {
            **ctx.lineage("payment", pid, "netsuite", received),
            "invoice_id": invoice["id"],
            "account_id": invoice["account_id"],
            "amount_minor": amount,
            "currency": invoice["currency"],
            "received_on": received,
            "status": PaymentStatus.APPLIED.value,
        },
    )
    invoice["status"] = outcome.value
    invoice["balance_minor"] = invoice["total_minor"] - amount
