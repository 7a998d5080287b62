"""The generated firm's ERP/PSA half as NetSuite records (record API field ids).

Standard fields where NetSuite has one (``companyName``, ``tranDate``, ``amountRemaining``,
``isMilestone``); the PSA facts NetSuite lacks live in custom fields (``custentity_cg_*`` on
entities, ``custevent_cg_*`` on tasks and allocations, ``custcol_cg_*`` on time, ``custbody_cg_*``
on transactions) and custom records (``customrecord_cg_*``), as a firm's account would have.
Every value the read model needs is kept, exactly: money and hours are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Record = dict[str, Any]

# The account's lists: internal ids of currencies, terms and statuses.
CURRENCY_IDS = {"USD": "1", "GBP": "2", "CAD": "3", "EUR": "4"}
TERM_IDS = {15: "1", 30: "2", 45: "3", 60: "4", 0: "5"}
JOB_STATUS_IDS = {"closed": "1", "active": "2", "completed": "3", "setup": "4", "on_hold": "5"}
TIME_STATUS_IDS = {"submitted": "1", "approved": "2", "rejected": "3", "draft": "4"}
RECORD_TYPES = (
    "customer",
    "employee",
    "customrecord_cg_ratecard",
    "customrecord_cg_ratecardline",
    "customrecord_cg_engagement",
    "job",
    "projecttask",
    "resourceallocation",
    "invoice",
    "timebill",
    "customrecord_cg_changeorder",
    "customerpayment",
)
INVOICE_STATUS = {"draft": "D", "posted": "A", "partially_paid": "A", "paid": "B", "void": "V"}


def ref(record_id: str | None) -> dict[str, str] | None:
    return None if record_id is None else {"id": record_id}


def money(minor: int) -> Decimal:
    """Minor units → the currency amount NetSuite shows (``12345`` → ``123.45``), exactly."""
    return Decimal(minor).scaleb(-2)


def _lineage(row: Row) -> Record:
    return {"id": row["source_id"], "lastModifiedDate": row["source_version"]}


class _Ids:
    """Read-model ids of the generated rows → their NetSuite internal ids."""

    def __init__(self, rows: dict[str, list[Row]]) -> None:
        self.customer = {x["account_id"]: x["source_id"] for x in rows.get("account_xref", [])}
        self.of = {t: {r["id"]: r.get("source_id") for r in rows.get(t, [])} for t in rows}
        self.deal_of = {e["id"]: e["opportunity_id"] for e in rows.get("engagement", [])}

    def deal(self, engagement_id: int | None) -> str | None:
        """The Salesforce id of the deal an engagement was sold by, if any."""
        deal = None if engagement_id is None else self.deal_of.get(engagement_id)
        return None if deal is None else self.of.get("opportunity", {}).get(deal)

    def get(self, table: str, row_id: int | None) -> dict[str, str] | None:
        return None if row_id is None else ref(self.of[table][row_id])


def seed_records(rows: dict[str, list[Row]]) -> Iterator[tuple[str, Record]]:
    """(record type, record) for every ERP/PSA row of a generated firm, parents first."""
    ids = _Ids(rows)
    accounts = {a["id"]: a for a in rows.get("account", [])}
    for xref in rows.get("account_xref", []):
        yield "customer", customer(xref, accounts[xref["account_id"]], ids)
    builders = (
        ("employee", "person", employee),
        ("customrecord_cg_ratecard", "rate_card", rate_card),
        ("customrecord_cg_ratecardline", "rate_card_line", rate_card_line),
        ("customrecord_cg_engagement", "engagement", engagement),
        ("job", "project", job),
        ("projecttask", "milestone", milestone),
        ("resourceallocation", "assignment", allocation),
        ("invoice", "invoice", invoice),
        ("timebill", "time_entry", timebill),
        ("customrecord_cg_changeorder", "change_order", change_order),
        ("customerpayment", "payment", payment),
    )
    for record_type, table, build in builders:
        for row in rows.get(table, []):
            yield record_type, build(row, ids)


def customer(xref: Row, account: Row, ids: _Ids) -> Record:
    """The ERP customer of a CRM account; ``externalId`` is the Salesforce account id."""
    parent = ids.customer.get(account["parent_id"]) if account["parent_id"] else None
    return {
        "id": xref["source_id"],
        "lastModifiedDate": xref["source_version"],
        "externalId": account["source_id"],
        "entityId": f"CUST{xref['source_id']}",
        "companyName": account["name"],
        "url": f"https://{account['domain']}",
        "email": f"billing@{account['domain']}",
        "currency": ref(CURRENCY_IDS[account["currency"]]),
        "terms": ref(TERM_IDS[account["billing_terms_days"]]),
        "parent": ref(parent),
        "isInactive": account["status"] == "inactive",
        "searchStage": "Prospect" if account["status"] == "prospect" else "Customer",
        "custentity_cg_industry": account["industry"],
        "custentity_cg_owner": account["owner_name"],
    }


def employee(row: Row, ids: _Ids) -> Record:
    first, _, last = row["name"].partition(" ")
    return {
        **_lineage(row),
        "entityId": row["name"],
        "firstName": first,
        "lastName": last,
        "email": row["email"],
        "title": row["role"],
        "isInactive": not row["active"],
        "custentity_cg_weekly_capacity": money(row["weekly_capacity_hours_x100"]),
    }


def rate_card(row: Row, ids: _Ids) -> Record:
    return {
        **_lineage(row),
        "name": row["name"],
        "custrecord_cg_service_line": row["service_line"],
        "custrecord_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
        "custrecord_cg_effective_from": row["effective_from"],
        "custrecord_cg_effective_to": row["effective_to"],
        "custrecord_cg_status": row["status"],
    }


def rate_card_line(row: Row, ids: _Ids) -> Record:
    return {
        **_lineage(row),
        "name": row["role"],
        "custrecord_cg_ratecard": ids.get("rate_card", row["rate_card_id"]),
        "custrecord_cg_role": row["role"],
        "custrecord_cg_bill_rate": money(row["bill_rate_minor"]),
        "custrecord_cg_cost_rate": money(row["cost_rate_minor"]),
    }


def engagement(row: Row, ids: _Ids) -> Record:
    """A contract; it names the won Salesforce opportunity by id in a text field."""
    return {
        **_lineage(row),
        "name": row["name"],
        "custrecord_cg_customer": ref(ids.customer[row["account_id"]]),
        "custrecord_cg_opportunity": ids.of["opportunity"].get(row["opportunity_id"]),
        "custrecord_cg_billing_method": row["billing_method"],
        "custrecord_cg_sold_value": money(row["sold_value_minor"]),
        "custrecord_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
        "custrecord_cg_start_date": row["start_date"],
        "custrecord_cg_end_date": row["end_date"],
        "custrecord_cg_signed_at": row["signed_at"],
        "custrecord_cg_status": row["status"],
    }


def job(row: Row, ids: _Ids) -> Record:
    """A project: a NetSuite job under its customer. Like a firm whose CRM connector stamps
    projects, it keeps the Salesforce id of the deal it delivers (``custentity_cg_opportunity``):
    the handoff asks for it before creating a project."""
    return {
        **_lineage(row),
        "entityId": row["code"],
        "companyName": row["name"],
        "parent": ref(ids.customer[row["account_id"]]),
        "entityStatus": ref(JOB_STATUS_IDS[row["status"]]),
        "currency": ref(CURRENCY_IDS[row["currency"]]),
        "startDate": row["start_date"],
        "projectedEndDate": row["end_date"],
        "custentity_cg_engagement": ids.get("engagement", row["engagement_id"]),
        "custentity_cg_opportunity": ids.deal(row["engagement_id"]),
        "custentity_cg_billing_method": row["billing_method"],
        "custentity_cg_budget": money(row["budget_minor"]),
        "custentity_cg_budget_hours": money(row["budget_hours_x100"]),
        "custentity_cg_etc_cost": money(row["etc_cost_minor"]),
        "custentity_cg_rate_card": ids.get("rate_card", row["rate_card_id"]),
        "custentity_cg_manager": row["manager_name"],
        "custentity_cg_activated_at": row["activated_at"],
        "custentity_cg_billing_schedule": None,  # written by the handoff (billing rules)
    }


def milestone(row: Row, ids: _Ids) -> Record:
    """A milestone task; approval and invoicing are the firm's own stages (a custom field)."""
    completed: datetime | None = row["completed_at"]
    stage = row["status"] if row["status"] in ("approved", "invoiced") else None
    return {
        **_lineage(row),
        "title": row["name"],
        "company": ids.get("project", row["project_id"]),
        "isMilestone": True,
        "endDate": row["due_date"],
        "status": ref("COMPLETE" if completed is not None else "NOTSTART"),
        "custevent_cg_stage": stage,
        "custevent_cg_completed_at": completed,
        "custevent_cg_amount": money(row["amount_minor"]),
        "custevent_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
    }


def allocation(row: Row, ids: _Ids) -> Record:
    return {
        **_lineage(row),
        "allocationResource": ids.get("person", row["person_id"]),
        "project": ids.get("project", row["project_id"]),
        "allocationAmount": money(row["scheduled_hours_x100"]),
        "allocationUnit": "H",
        "startDate": row["start_date"],
        "endDate": row["end_date"],
        "custevent_cg_role": row["role"],
        "custevent_cg_bill_rate": money(row["bill_rate_minor"]),
        "custevent_cg_cost_rate": money(row["cost_rate_minor"]),
        "custevent_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
        "custevent_cg_status": row["status"],
    }


def invoice(row: Row, ids: _Ids) -> Record:
    return {
        **_lineage(row),
        "tranId": row["number"],
        "entity": ref(ids.customer[row["account_id"]]),
        "job": ids.get("project", row["project_id"]),
        "currency": ref(CURRENCY_IDS[row["currency"]]),
        "tranDate": row["issue_date"],
        "dueDate": row["due_date"],
        "total": money(row["total_minor"]),
        "amountRemaining": money(row["balance_minor"]),
        "status": ref(INVOICE_STATUS[row["status"]]),
    }


def timebill(row: Row, ids: _Ids) -> Record:
    """A time entry; ``customer`` is NetSuite's "Customer:Project" field: here the job."""
    invoiced = row["status"] == "invoiced"
    return {
        **_lineage(row),
        "employee": ids.get("person", row["person_id"]),
        "customer": ids.get("project", row["project_id"]),
        "tranDate": row["work_date"],
        "hours": money(row["hours_x100"]),
        "isBillable": row["billable"],
        "rate": money(row["bill_rate_minor"]),
        "approvalStatus": ref(TIME_STATUS_IDS["approved" if invoiced else row["status"]]),
        "custcol_cg_role": row["role"],
        "custcol_cg_standard_rate": money(row["standard_rate_minor"]),
        "custcol_cg_cost_rate": money(row["cost_rate_minor"]),
        "custcol_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
        "custcol_cg_submitted_at": row["submitted_at"],
        "custcol_cg_invoice": ids.get("invoice", row["invoice_id"]),
        "memo": None,  # NetSuite's standard note on a time entry (written by log_time)
    }


def change_order(row: Row, ids: _Ids) -> Record:
    return {
        **_lineage(row),
        "name": row["reason"],
        "custrecord_cg_project": ids.get("project", row["project_id"]),
        "custrecord_cg_budget_delta": money(row["budget_delta_minor"]),
        "custrecord_cg_hours_delta": money(row["hours_delta_x100"]),
        "custrecord_cg_days_delta": row["days_delta"],
        "custrecord_cg_currency": ref(CURRENCY_IDS[row["currency"]]),
        "custrecord_cg_reason": row["reason"],
        "custrecord_cg_status": row["status"],
        "custrecord_cg_submitted_at": row["submitted_at"],
        "custrecord_cg_decided_at": row["decided_at"],
    }


def payment(row: Row, ids: _Ids) -> Record:
    """A customer payment, applied to one invoice (``custbody_cg_invoice``; see the docs)."""
    return {
        **_lineage(row),
        "tranId": f"PYMT{row['source_id']}",
        "customer": ref(ids.customer[row["account_id"]]),
        "payment": money(row["amount_minor"]),
        "currency": ref(CURRENCY_IDS[row["currency"]]),
        "tranDate": row["received_on"],
        "custbody_cg_invoice": ids.get("invoice", row["invoice_id"]),
    }
