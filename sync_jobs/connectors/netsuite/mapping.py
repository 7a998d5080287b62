"""NetSuite records → canonical rows. Pure functions: no I/O, tested on their own.

Every mapper takes a record in SuiteQL's shape (lower-case column names, references as bare
ids, booleans ``"T"``/``"F"``); ``flatten`` brings a record-API record to that shape, so a
pull (SuiteQL) and a fetch (record API) map through the same code. Clients are named as
``Ref("account", "netsuite", <customer id>)``: identity resolution links an ERP customer to
its CRM account (by the customer's ``externalId``) rather than duplicating the client.
"""

from __future__ import annotations

from collections.abc import Callable

from sync_jobs.connectors.netsuite import fields as ns
from sync_jobs.connectors.netsuite.fields import (
    DEFAULT_TERMS_DAYS,
    INVOICE_STATUS,
    JOB_STATUS,
    SYSTEM,
    TERM_DAYS,
    TIME_STATUS,
    Row,
    deletion,
    flatten,
    stamp,
)
from sync_jobs.rows import CanonicalRow, Ref

CRM = "salesforce"  # whose deal ids engagements carry; the connector renames for another CRM


def customer(row: Row) -> CanonicalRow:
    """A customer is a client (table ``account``); ``externalId`` is its CRM account id."""
    status = "active"
    if ns.flag(row.get("isinactive")):
        status = "inactive"
    elif str(row.get("searchstage", "")).lower() in ("prospect", "lead"):
        status = "prospect"
    values = {
        "name": row["companyname"],
        "parent_id": ns.ref("account", row.get("parent")),
        "industry": row.get("custentity_cg_industry"),
        "owner_name": row.get("custentity_cg_owner"),
        "currency": ns.currency(row.get("currency")),
        "billing_terms_days": TERM_DAYS.get(str(row.get("terms")), DEFAULT_TERMS_DAYS),
        "status": status,
        "domain": ns.domain(row),
    }
    external = row.get("externalid") or None
    return CanonicalRow("account", SYSTEM, str(row["id"]), stamp(row), values, external_id=external)


def employee(row: Row) -> CanonicalRow:
    name = " ".join(p for p in (row.get("firstname"), row.get("lastname")) if p)
    return ns.row_of(
        "person",
        row,
        {
            "name": name or row.get("entityid") or "",
            "email": row.get("email"),
            "role": row.get("title") or "",
            "weekly_capacity_hours_x100": ns.hundredths(row.get("custentity_cg_weekly_capacity"))
            or 4000,
            "active": not ns.flag(row.get("isinactive")),
        },
    )


def rate_card(row: Row) -> CanonicalRow:
    return ns.row_of(
        "rate_card",
        row,
        {
            "name": row["name"],
            "service_line": row.get("custrecord_cg_service_line"),
            "currency": ns.currency(row.get("custrecord_cg_currency")),
            "effective_from": ns.day(row.get("custrecord_cg_effective_from")),
            "effective_to": ns.day(row.get("custrecord_cg_effective_to")),
            "status": row.get("custrecord_cg_status") or "effective",
        },
    )


def rate_card_line(row: Row) -> CanonicalRow:
    return ns.row_of(
        "rate_card_line",
        row,
        {
            "rate_card_id": ns.ref("rate_card", row.get("custrecord_cg_ratecard")),
            "role": row.get("custrecord_cg_role") or row.get("name") or "",
            "bill_rate_minor": ns.hundredths(row.get("custrecord_cg_bill_rate")),
            "cost_rate_minor": ns.hundredths(row.get("custrecord_cg_cost_rate")),
        },
    )


def engagement(row: Row) -> CanonicalRow:
    """A contract; the won deal is named by its Salesforce id (a text field)."""
    opportunity = row.get("custrecord_cg_opportunity")
    return ns.row_of(
        "engagement",
        row,
        {
            "account_id": ns.ref("account", row.get("custrecord_cg_customer")),
            "opportunity_id": None
            if not opportunity
            else Ref("opportunity", CRM, str(opportunity)),
            "name": row["name"],
            "billing_method": row.get("custrecord_cg_billing_method") or "time_and_materials",
            "sold_value_minor": ns.hundredths(row.get("custrecord_cg_sold_value")),
            "currency": ns.currency(row.get("custrecord_cg_currency")),
            "start_date": ns.day(row.get("custrecord_cg_start_date")),
            "end_date": ns.day(row.get("custrecord_cg_end_date")),
            "signed_at": ns.moment(row.get("custrecord_cg_signed_at")),
            "status": row.get("custrecord_cg_status") or "draft",
        },
    )


def project(row: Row) -> CanonicalRow:
    """A job (project) under its customer."""
    return ns.row_of(
        "project",
        row,
        {
            "engagement_id": ns.ref("engagement", row.get("custentity_cg_engagement")),
            "account_id": ns.ref("account", row.get("parent")),
            "code": row.get("entityid") or str(row["id"]),
            "name": row.get("companyname") or row.get("entityid") or "",
            "status": JOB_STATUS.get(str(row.get("entitystatus")), "active"),
            "billing_method": row.get("custentity_cg_billing_method") or "time_and_materials",
            "currency": ns.currency(row.get("currency")),
            "budget_minor": ns.hundredths(row.get("custentity_cg_budget")),
            "budget_hours_x100": ns.hundredths(row.get("custentity_cg_budget_hours")),
            "etc_cost_minor": ns.hundredths(row.get("custentity_cg_etc_cost")),
            "rate_card_id": ns.ref("rate_card", row.get("custentity_cg_rate_card")),
            "start_date": ns.day(row.get("startdate")),
            "end_date": ns.day(row.get("projectedenddate")),
            "manager_name": row.get("custentity_cg_manager"),
            "activated_at": ns.moment(row.get("custentity_cg_activated_at")),
        },
    )


def milestone(row: Row) -> CanonicalRow:
    """A milestone task. A task that is not (or no longer) a milestone is not in the read
    model: it maps to a deletion, which removes a milestone that was demoted."""
    if not ns.flag(row.get("ismilestone")):
        return deletion("milestone", row["id"], stamp(row))
    done = str(row.get("status")) == "COMPLETE"
    return ns.row_of(
        "milestone",
        row,
        {
            "project_id": ns.ref("project", row.get("company")),
            "name": row.get("title") or "",
            "due_date": ns.day(row.get("enddate")),
            "amount_minor": ns.hundredths(row.get("custevent_cg_amount")),
            "currency": ns.currency(row.get("custevent_cg_currency")),
            "completed_at": ns.moment(row.get("custevent_cg_completed_at")),
            "status": row.get("custevent_cg_stage") or ("completed" if done else "planned"),
        },
    )


def assignment(row: Row) -> CanonicalRow:
    """A resource allocation; ``allocationAmount`` is in hours (``allocationUnit`` H)."""
    return ns.row_of(
        "assignment",
        row,
        {
            "project_id": ns.ref("project", row.get("project")),
            "person_id": ns.ref("person", row.get("allocationresource")),
            "role": row.get("custevent_cg_role") or "",
            "scheduled_hours_x100": ns.hundredths(row.get("allocationamount")),
            "bill_rate_minor": ns.hundredths(row.get("custevent_cg_bill_rate")),
            "cost_rate_minor": ns.hundredths(row.get("custevent_cg_cost_rate")),
            "currency": ns.currency(row.get("custevent_cg_currency")),
            "start_date": ns.day(row.get("startdate")),
            "end_date": ns.day(row.get("enddate")),
            "status": row.get("custevent_cg_status") or "booked",
        },
    )


def invoice(row: Row) -> CanonicalRow:
    total = ns.hundredths(row.get("total"))
    balance = ns.hundredths(row.get("amountremaining"))
    status = INVOICE_STATUS.get(str(row.get("status")))
    if status is None:  # open: partly paid once something was received
        status = "partially_paid" if balance < total else "posted"
    return ns.row_of(
        "invoice",
        row,
        {
            "account_id": ns.ref("account", row.get("entity")),
            "project_id": ns.ref("project", row.get("job")),
            "number": row.get("tranid") or str(row["id"]),
            "currency": ns.currency(row.get("currency")),
            "issue_date": ns.day(row.get("trandate")),
            "due_date": ns.day(row.get("duedate")),
            "total_minor": total,
            "balance_minor": balance,
            "status": status,
        },
    )


def time_entry(row: Row) -> CanonicalRow:
    """A time bill; ``customer`` is NetSuite's "Customer:Project" field, here the project.
    Approved time that has been billed (``custcol_cg_invoice``) is ``invoiced``."""
    status = TIME_STATUS.get(str(row.get("approvalstatus")), "submitted")
    invoiced = row.get("custcol_cg_invoice")
    return ns.row_of(
        "time_entry",
        row,
        {
            "project_id": ns.ref("project", row.get("customer")),
            "person_id": ns.ref("person", row.get("employee")),
            "role": row.get("custcol_cg_role") or "",
            "work_date": ns.day(row.get("trandate")),
            "hours_x100": ns.hundredths(row.get("hours")),
            "billable": ns.flag(row.get("isbillable")),
            "bill_rate_minor": ns.hundredths(row.get("rate")),
            "standard_rate_minor": ns.hundredths(row.get("custcol_cg_standard_rate")),
            "cost_rate_minor": ns.hundredths(row.get("custcol_cg_cost_rate")),
            "currency": ns.currency(row.get("custcol_cg_currency")),
            "status": "invoiced" if invoiced and status == "approved" else status,
            "submitted_at": ns.moment(row.get("custcol_cg_submitted_at")),
            "invoice_id": ns.ref("invoice", invoiced),
        },
    )


def change_order(row: Row) -> CanonicalRow:
    return ns.row_of(
        "change_order",
        row,
        {
            "project_id": ns.ref("project", row.get("custrecord_cg_project")),
            "budget_delta_minor": ns.hundredths(row.get("custrecord_cg_budget_delta")),
            "hours_delta_x100": ns.hundredths(row.get("custrecord_cg_hours_delta")),
            "days_delta": int(row.get("custrecord_cg_days_delta") or 0),
            "currency": ns.currency(row.get("custrecord_cg_currency")),
            "reason": row.get("custrecord_cg_reason") or row.get("name") or "",
            "status": row.get("custrecord_cg_status") or "submitted",
            "submitted_at": ns.moment(row.get("custrecord_cg_submitted_at")),
            "decided_at": ns.moment(row.get("custrecord_cg_decided_at")),
        },
    )


def payment(row: Row) -> CanonicalRow:
    """A customer payment, applied to one invoice (limit: one invoice per payment)."""
    applied = row.get("custbody_cg_invoice")
    return ns.row_of(
        "payment",
        row,
        {
            "invoice_id": ns.ref("invoice", applied),
            "account_id": ns.ref("account", row.get("customer")),
            "amount_minor": ns.hundredths(row.get("payment")),
            "currency": ns.currency(row.get("currency")),
            "received_on": ns.day(row.get("trandate")),
            "status": "applied" if applied else "received",
        },
    )


Mapper = Callable[[Row], CanonicalRow]
__all__ = ["SYSTEM", "Mapper", "deletion", "flatten", "stamp"]
