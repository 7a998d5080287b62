"""Tryton records → canonical rows. Pure functions: no I/O, tested on their own.

Records arrive decoded by the client (``Decimal``, ``date``, aware UTC ``datetime``,
``timedelta``), with dotted fields nested (``"currency.": {"code": "USD"}``). The version
of every row is Tryton's ``last_modified_at`` (the write date, or the create date of a
record never written).

Defaults for NOT NULL columns Tryton has no value for:
``account.billing_terms_days`` 30 unless the party's payment term is "Net N";
``person.role`` "consultant"; ``time_entry.role`` "consultant"; an opportunity without an
end date closes on its start date; a project's start is its creation day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from readmodel.money import decimal_to_minor
from sync_jobs.connectors.tryton.projects import Booked
from sync_jobs.rows import CanonicalRow, Ref

SYSTEM = "tryton"
DEFAULT_CURRENCY = "USD"  # the company currency when a record does not name one
DEFAULT_ROLE = "consultant"
DEFAULT_TERMS_DAYS = 30

# Opportunity states → our stages. Tryton has one open state ("opportunity") for what we
# split in two: its conversion probability places it (below 50 %: qualification).
STAGES = {
    "lead": "prospecting",
    "converted": "negotiation",
    "won": "closed_won",
    "lost": "closed_lost",
    "cancelled": "closed_lost",
}
# How a project is invoiced → our billing method. "effort" bills the estimated effort and
# "timesheet" the hours recorded: both are time and materials. "progress" bills a share of a
# fixed price as work advances: fixed fee. "manual" is invoiced on decisions taken outside
# the project (ours: milestones). No method at all (not billed): non-billable.
BILLING_METHODS = {
    "effort": "time_and_materials",
    "timesheet": "time_and_materials",
    "progress": "fixed_fee",
    "manual": "milestone",
}

PARTY_FIELDS = ("name", "active", "website", "customer_payment_term.name", "last_modified_at")
EMPLOYEE_FIELDS = ("party.name", "party.email", "active", "end_date", "last_modified_at")
OPPORTUNITY_FIELDS = (
    "party", "description", "state", "amount", "currency.code", "conversion_probability",
    "start_date", "end_date", "employee.rec_name", "last_modified_at",
)  # fmt: skip
PROJECT_FIELDS = (
    "name", "number", "party", "status.name", "project_invoice_method", "list_price",
    "total_effort", "revenue", "company.currency.code", "timesheet_start_date",
    "timesheet_end_date", "comment", "create_date", "last_modified_at",
)  # fmt: skip
# Tryton numbers works from a sequence and has no project manager: a project set up by our
# handoff keeps its code and manager as lines of its comment (``handoff_writes.py``).
CODE_LINE, MANAGER_LINE = "code: ", "manager: "
TIMESHEET_FIELDS = (
    "employee", "date", "duration", "cost_price", "work.origin", "invoice_line.invoice",
    "invoice_line.unit_price", "create_date", "last_modified_at",
)  # fmt: skip
# A payment is a move line an invoice lists among its payment lines (the pay wizard, a
# statement): a credit on the client's receivable account.
PAYMENT_FIELDS = (
    "invoice_payment", "invoice_payment.party", "invoice_payment.currency.code", "debit",
    "credit", "date", "reconciliation", "last_modified_at",
)  # fmt: skip
INVOICE_FIELDS = (
    "party", "number", "state", "invoice_date", "currency.code", "total_amount",
    "amount_to_pay", "lines_to_pay.maturity_date", "last_modified_at",
)  # fmt: skip


def version(record: dict[str, Any]) -> datetime:
    """Tryton's ``last_modified_at``, already an aware UTC datetime from the client."""
    stamp: datetime = record["last_modified_at"]
    return stamp


def deletion(table: str, source_id: str, now: datetime) -> CanonicalRow:
    """A record the source no longer has, seen gone at ``now`` (also its version)."""
    return CanonicalRow(table, SYSTEM, source_id, now, deleted_at=now)


def _row(table: str, record: dict[str, Any], values: dict[str, Any]) -> CanonicalRow:
    return CanonicalRow(table, SYSTEM, str(record["id"]), version(record), values)


def _ref(table: str, source_id: int | None) -> Ref | None:
    return None if source_id is None else Ref(table, SYSTEM, str(source_id))


def nested(record: dict[str, Any], path: str) -> Any:
    """``"currency.code"`` → ``record["currency."]["code"]`` (``None`` along the way)."""
    *parents, leaf = path.split(".")
    value: Any = record
    for name in parents:
        value = (value or {}).get(f"{name}.")
    return (value or {}).get(leaf)


def _currency(record: dict[str, Any], path: str = "currency.code") -> str:
    return str(nested(record, path) or DEFAULT_CURRENCY)


def hours_x100(duration: timedelta | None) -> int:
    """A duration → hundredths of an hour, rounded half-even (7 h 30 → 750)."""
    seconds = Decimal(str((duration or timedelta()).total_seconds()))
    return int((seconds / 36).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def account(record: dict[str, Any]) -> CanonicalRow:
    """A party: Tryton is the account master when selected, so a party *is* a client."""
    return _row(
        "account",
        record,
        {
            "name": record["name"],
            "parent_id": None,
            "industry": None,
            "owner_name": None,
            "currency": DEFAULT_CURRENCY,
            "billing_terms_days": terms_days(nested(record, "customer_payment_term.name")),
            "status": "active" if record.get("active", True) else "inactive",
            "domain": record.get("website") or None,
        },
    )


def terms_days(term_name: str | None) -> int:
    """``"Net 45"`` → 45; any other term (or none) → the default of 30 days."""
    match = re.search(r"(\d+)", term_name or "")
    return int(match.group(1)) if match else DEFAULT_TERMS_DAYS


def person(record: dict[str, Any]) -> CanonicalRow:
    """An employee: who can be staffed and book time."""
    return _row(
        "person",
        record,
        {
            "name": nested(record, "party.name") or f"Employee {record['id']}",
            "email": nested(record, "party.email") or None,
            "role": DEFAULT_ROLE,
            "active": bool(record.get("active", True)) and record.get("end_date") is None,
        },
    )


def stage(state: str, probability: Decimal) -> str:
    if state == "opportunity":
        return "qualification" if probability < Decimal("0.5") else "proposal"
    return STAGES.get(state, "prospecting")


def opportunity(record: dict[str, Any]) -> CanonicalRow:
    probability = Decimal(str(record.get("conversion_probability") or 0))
    state = record["state"]
    closed = state in {"won", "lost", "cancelled"}
    return _row(
        "opportunity",
        record,
        {
            "account_id": _ref("account", record["party"]),
            "name": record.get("description") or f"Opportunity {record['id']}",
            "stage": stage(state, probability),
            "probability": _percent(state, probability),
            "amount_minor": decimal_to_minor(record.get("amount") or Decimal(0)),
            "currency": _currency(record),
            "close_date": record.get("end_date") or record["start_date"],
            "owner_name": nested(record, "employee.rec_name"),
            "service_line": None,
            "is_won": state == "won",
            "is_closed": closed,
            "closed_at": version(record) if closed else None,
        },
    )


def _percent(state: str, probability: Decimal) -> int:
    if state == "won":
        return 100
    if state in {"lost", "cancelled"}:
        return 0
    return int((probability * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def project(record: dict[str, Any]) -> CanonicalRow:
    """A work of type project. Budget = list price × total effort (Tryton's ``revenue``)."""
    method = record.get("project_invoice_method")
    status = str(nested(record, "status.name") or "").lower()
    created: datetime = record.get("create_date") or version(record)
    number = record["id"]
    return _row(
        "project",
        record,
        {
            "engagement_id": None,
            "account_id": _ref("account", record["party"]),
            "code": comment_line(record, CODE_LINE) or record.get("number") or f"TRY-{number}",
            "name": record["name"],
            "status": "completed" if status == "done" else "active",
            "billing_method": BILLING_METHODS.get(method or "", "non_billable"),
            "currency": _currency(record, "company.currency.code"),
            "budget_minor": decimal_to_minor(record.get("revenue") or Decimal(0)),
            "budget_hours_x100": hours_x100(record.get("total_effort")),
            "start_date": record.get("timesheet_start_date") or created.date(),
            "end_date": record.get("timesheet_end_date"),
            "manager_name": comment_line(record, MANAGER_LINE),
        },
    )


def comment_line(record: dict[str, Any], label: str) -> str | None:
    """The text of the ``label`` line of the record's comment, if it has one."""
    for line in str(record.get("comment") or "").splitlines():
        if line.startswith(label) and line[len(label) :].strip():
            return line[len(label) :].strip()
    return None


def time_entry(record: dict[str, Any], work: Booked, currency: str) -> CanonicalRow:
    """A timesheet line, priced as Tryton bills it.

    ``work`` is the work it is booked on (a task or the project), with its root project. Its
    list price is the rate Tryton invoices; once invoiced, the invoice line's unit price is
    what was billed and stays so whatever the list price becomes. Only time on works
    invoiced by timesheet is billable: other methods bill effort, progress or by hand.
    """
    standard = decimal_to_minor(work.list_price)
    invoiced = nested(record, "invoice_line.unit_price")
    invoice = nested(record, "invoice_line.invoice")
    return _row(
        "time_entry",
        record,
        {
            "project_id": _ref("project", work.project["id"]),
            "person_id": _ref("person", record["employee"]),
            "role": DEFAULT_ROLE,
            "work_date": record["date"],
            "hours_x100": hours_x100(record.get("duration")),
            "billable": work.invoice_method == "timesheet",
            "bill_rate_minor": standard if invoiced is None else decimal_to_minor(invoiced),
            "standard_rate_minor": standard,
            "cost_rate_minor": decimal_to_minor(record.get("cost_price") or Decimal(0)),
            "currency": currency,
            "status": "invoiced" if invoice else "approved",
            "submitted_at": record.get("create_date"),
            "invoice_id": _ref("invoice", invoice),
        },
    )


def payment(record: dict[str, Any]) -> CanonicalRow:
    """A payment line of a customer invoice: applied once reconciled with what it pays."""
    return _row(
        "payment",
        record,
        {
            "invoice_id": _ref("invoice", record["invoice_payment"]),
            "account_id": _ref("account", nested(record, "invoice_payment.party")),
            "amount_minor": decimal_to_minor(
                (record.get("credit") or Decimal(0)) - (record.get("debit") or Decimal(0))
            ),
            "currency": _currency(record, "invoice_payment.currency.code"),
            "received_on": record["date"],
            "status": "applied" if record.get("reconciliation") else "received",
        },
    )


def invoice(record: dict[str, Any], project_id: int | None = None) -> CanonicalRow:
    """A customer invoice; the balance is Tryton's ``amount_to_pay``, exact to the cent.

    ``project_id`` is the project its lines bill (looked up by the connector), if any.
    """
    total = record.get("total_amount") or Decimal(0)
    to_pay = record.get("amount_to_pay") or Decimal(0)
    issued: date = record.get("invoice_date") or version(record).date()
    return _row(
        "invoice",
        record,
        {
            "account_id": _ref("account", record["party"]),
            "project_id": _ref("project", project_id),
            "number": record.get("number") or f"DRAFT-{record['id']}",
            "currency": _currency(record),
            "issue_date": issued,
            "due_date": due_date(record.get("lines_to_pay.") or [], issued),
            "total_minor": decimal_to_minor(total),
            "balance_minor": decimal_to_minor(to_pay),
            "status": invoice_status(record["state"], total, to_pay),
        },
    )


def due_date(lines_to_pay: list[dict[str, Any]], issued: date) -> date:
    """The earliest maturity among the lines to pay; a draft (no lines yet) is due on issue."""
    dates = [line["maturity_date"] for line in lines_to_pay if line.get("maturity_date")]
    return min(dates, default=issued)


def invoice_status(state: str, total: Decimal, to_pay: Decimal) -> str:
    """draft/validated → draft; posted → posted or partially_paid; paid; cancelled → void."""
    if state == "paid":
        return "paid"
    if state == "cancelled":
        return "void"
    if state == "posted":
        return "partially_paid" if Decimal(0) < to_pay < total else "posted"
    return "draft"
