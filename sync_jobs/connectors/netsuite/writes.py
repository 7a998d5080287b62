"""Commands applied to NetSuite through the REST record API.

Idempotency, per kind:

* records a command creates (``log_time`` → timebill, ``submit_change_order`` →
  customrecord_cg_changeorder, ``issue_invoice`` → invoice) are written with
  ``PUT /record/v1/<type>/eid:<key>``, NetSuite's upsert by external id: the first call creates,
  any repeat updates that same record. ``key`` is the command's own id, so a retry after a
  crash, a timeout or a lost answer can never make a second record;
* updates (``approve_time_entries``, ``complete_milestone``) ``PATCH`` records named by their
  internal id with fixed values, so a repeat changes nothing but the stamp.

Amounts arrive as strings and go out as exact ``Decimal`` numbers; references as
``{"id": ...}``. What NetSuite would fill in from the account's setup (a time entry's currency,
an invoice's customer and due date) is read from the project first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sync_jobs.commands.payload import flag, iso_day, number, text
from sync_jobs.commands.writes import InvalidPayload, Payload, UnsupportedCommand, WriteResult
from sync_jobs.connectors.netsuite import handoff_writes
from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.fields import DEFAULT_TERMS_DAYS, SYSTEM, TERM_DAYS
from sync_jobs.connectors.netsuite.lists import currency_id
from sync_jobs.errors import PermanentSourceError

SUBMITTED, APPROVED = "1", "2"  # timebill approvalStatus list ids
OPEN_INVOICE = "A"
Fields = dict[str, Any]
Handler = Callable[[NetSuiteClient, Payload, str, datetime], Awaitable[WriteResult]]


async def apply_command(
    client: NetSuiteClient, kind: str, payload: Payload, key: str, now: datetime
) -> WriteResult:
    """Apply one command; ``key`` is the external id of a record it creates."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnsupportedCommand(SYSTEM, kind)
    return await handler(client, payload, key, now)


async def log_time(client: NetSuiteClient, p: Payload, key: str, now: datetime) -> WriteResult:
    """A time entry, submitted for approval, in its project's currency."""
    kind = "log_time"
    project_id = text(kind, p, "project_id")
    job = await _record(client, "job", project_id)
    fields: Fields = {
        "customer": _ref(project_id),
        "employee": _ref(text(kind, p, "person_id")),
        "tranDate": iso_day(kind, p, "work_date"),
        "hours": number(kind, p, "hours"),
        "isBillable": flag(p.get("billable", True)),
        "approvalStatus": _ref(SUBMITTED),
        "custcol_cg_currency": job.get("currency"),
        "custcol_cg_submitted_at": now,
    }
    if p.get("note"):
        fields["memo"] = str(p["note"])
    return WriteResult("timebill", await client.upsert("timebill", key, fields))


async def approve_time_entries(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """Approve each time entry; one already approved is approved again (a no-op)."""
    ids = [str(i) for i in p.get("time_entry_ids") or []]
    if not ids:
        raise InvalidPayload("approve_time_entries", "time_entry_ids is empty")
    for record_id in ids:
        await client.update("timebill", record_id, {"approvalStatus": _ref(APPROVED)})
    return WriteResult("timebill", ids[0], tuple(ids[1:]))


async def complete_milestone(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """Mark the milestone task complete on ``completed_on`` (midnight UTC)."""
    kind = "complete_milestone"
    task_id = text(kind, p, "milestone_id")
    completed = datetime.combine(iso_day(kind, p, "completed_on"), time(), tzinfo=UTC)
    changes = {"status": _ref("COMPLETE"), "custevent_cg_completed_at": completed}
    await client.update("projecttask", task_id, changes)
    return WriteResult("projecttask", task_id)


async def submit_change_order(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """A change order awaiting the client's decision."""
    kind = "submit_change_order"
    reason = text(kind, p, "reason")
    fields: Fields = {
        "name": reason[:300],
        "custrecord_cg_project": _ref(text(kind, p, "project_id")),
        "custrecord_cg_budget_delta": number(kind, p, "budget_delta"),
        "custrecord_cg_hours_delta": number(kind, p, "hours_delta"),
        "custrecord_cg_days_delta": int(number(kind, p, "days_delta")),
        "custrecord_cg_currency": _ref(currency_id(kind, p["currency"])),
        "custrecord_cg_reason": reason,
        "custrecord_cg_status": "submitted",
        "custrecord_cg_submitted_at": now,
    }
    record_id = await client.upsert("customrecord_cg_changeorder", key, fields)
    return WriteResult("changeorder", record_id)


async def issue_invoice(client: NetSuiteClient, p: Payload, key: str, now: datetime) -> WriteResult:
    """An open invoice to the project's customer; due by the customer's terms if not given."""
    kind = "issue_invoice"
    project_id = text(kind, p, "project_id")
    job = await _record(client, "job", project_id)
    customer_id = str((job.get("parent") or {}).get("id") or "")
    if not customer_id:
        raise PermanentSourceError("INVALID_KEY_OR_REF", f"Project {project_id} has no customer.")
    issued = iso_day(kind, p, "issue_date")
    fields: Fields = {
        "entity": _ref(customer_id),
        "job": _ref(project_id),
        "currency": _ref(currency_id(kind, p["currency"]))
        if p.get("currency")
        else job.get("currency"),
        "tranDate": issued,
        "dueDate": iso_day(kind, p, "due_date") if p.get("due_date") else None,
        "status": _ref(OPEN_INVOICE),
    }
    if fields["dueDate"] is None:
        fields["dueDate"] = issued + timedelta(days=await _terms_days(client, customer_id))
    if p.get("amount") is not None:
        fields["total"] = fields["amountRemaining"] = number(kind, p, "amount")
    return WriteResult("invoice", await client.upsert("invoice", key, fields))


HANDLERS: dict[str, Handler] = {
    "log_time": log_time,
    "approve_time_entries": approve_time_entries,
    "complete_milestone": complete_milestone,
    "submit_change_order": submit_change_order,
    "issue_invoice": issue_invoice,
    **handoff_writes.HANDLERS,  # the quote-to-project handoff's steps
}


async def _record(client: NetSuiteClient, record_type: str, record_id: str) -> dict[str, Any]:
    """A record the write depends on; its absence is NetSuite's own refusal, not a retry."""
    record = await client.get_record(record_type, record_id)
    if record is None:
        detail = f"Record {record_type} with id {record_id} was not found."
        raise PermanentSourceError("NONEXISTENT_ID", detail)
    return record


async def _terms_days(client: NetSuiteClient, customer_id: str) -> int:
    customer = await _record(client, "customer", customer_id)
    terms = str((customer.get("terms") or {}).get("id"))
    return TERM_DAYS.get(terms, DEFAULT_TERMS_DAYS)


def _ref(record_id: str) -> dict[str, str]:
    return {"id": record_id}




