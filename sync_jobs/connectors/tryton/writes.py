"""Commands applied to Tryton through JSON-RPC: deals, time and invoices.

Tryton has neither an upsert by external id nor an idempotency key, so each kind is made
safe to repeat (a retry after a lost answer must never make a second record) its own way:

* ``log_time`` → ``timesheet.line``: the command key ends the line's description
  (``"workshop [clientgraph-3f2a…]"``) and the line is searched for by it before one
  is created (same employee and day, so the search stays on indexed columns).
* ``issue_invoice`` → ``account.invoice``: the key is the invoice's ``reference``; a retry
  finds the invoice and resumes its workflow where it stopped (draft → validated → posted).
  With an amount the invoice has one line of the project's service product; without, the
  project's own Invoice button bills what it has to bill (and marks it billed).
* ``update_opportunity`` and ``mark_opportunity_won`` (``deals.py``) walk Tryton's workflow
  from the state it holds now and write only the fields that differ, so a repeat skips
  what is done.

The handoff's steps (``ensure_customer`` … ``link_project_to_opportunity``) are in
``handoff_writes.py``.

Not supported (``UnsupportedCommand``): ``approve_time_entries`` (a Tryton timesheet line
has no approval state: it exists or not), ``complete_milestone`` (Tryton has no milestone
model), ``submit_change_order`` (no change-order model).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sync_jobs.commands.writes import InvalidPayload, Payload, UnsupportedCommand, WriteResult
from sync_jobs.connectors.tryton import deals, handoff_writes, projects
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.mapping import SYSTEM, nested
from sync_jobs.connectors.tryton.payload import flag, iso_day, number, record_id
from sync_jobs.errors import PermanentSourceError

ALL = {"active_test": False}
Handler = Callable[[TrytonClient, Payload, str], Awaitable[WriteResult]]
# Invoice states in workflow order, with the button that leaves each on the way to posted.
POSTING = {"draft": "validate_invoice", "validated": "post"}
DONE = {"posted", "paid"}
PROJECT_FIELDS = (
    "name", "party", "project_invoice_method", "timesheet_works", "product",
    "product.default_uom", "product.account_category.account_revenue", "company",
    "company.currency", "company.currency.code",
)  # fmt: skip


async def apply_command(client: TrytonClient, kind: str, payload: Payload, key: str) -> WriteResult:
    """Apply one command; ``key`` marks what it creates so a retry finds it."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnsupportedCommand(SYSTEM, kind)
    return await handler(client, payload, key)


async def log_time(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """A timesheet line on the project's timesheet work, unless the key's line exists.

    Tryton bills a line by its project's invoice method, not by a flag of the line: time
    said to be non-billable on a project invoiced by timesheet is refused rather than
    billed; on other projects no time is billed (they bill effort, progress or by hand).
    """
    kind = "log_time"
    employee, day = record_id(kind, p, "person_id"), iso_day(kind, p, "work_date")
    project = await _project(client, record_id(kind, p, "project_id"))
    if not flag(p.get("billable", True)) and project.get("project_invoice_method") == "timesheet":
        raise InvalidPayload(kind, "Tryton bills all time of this project (invoiced by timesheet)")
    tag = f"[{key}]"
    mine = [["employee", "=", employee], ["date", "=", day], ["description", "like", f"%{tag}"]]
    found = await client.search("timesheet.line", mine)
    if found:
        return WriteResult("time_entry", str(found[0]))
    line = {
        "employee": employee,
        "date": day,
        "duration": timedelta(seconds=int(number(kind, p, "hours") * 3600)),
        "work": _timesheet_work(project),
        "description": f"{str(p.get('note') or '').strip()} {tag}".strip(),
    }
    (created,) = await client.create("timesheet.line", [line])
    return WriteResult("time_entry", str(created))


async def issue_invoice(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """A posted customer invoice for the project: of the amount given, else of what the
    project has to bill.

    Found by its reference (the key) before it is made; then each workflow button left to
    click is clicked, so a retry after any failure ends with exactly one posted invoice.
    """
    kind = "issue_invoice"
    project_id = record_id(kind, p, "project_id")
    found = await client.search("account.invoice", [["type", "=", "out"], ["reference", "=", key]])
    if found:
        invoice_id = found[0]
    elif p.get("amount") is None:
        invoice_id = await _bill_project(client, kind, p, key, project_id)
    else:
        invoice_id = await _create_invoice(client, kind, p, key, project_id)
    await post_invoice(client, invoice_id)
    return WriteResult("invoice", str(invoice_id))


async def post_invoice(client: TrytonClient, invoice_id: int) -> None:
    """Click what is left of draft → validated → posted (a closed period is Tryton's refusal)."""
    (invoice,) = await client.read("account.invoice", [invoice_id], ["state"])
    state = invoice["state"]
    while state in POSTING:
        await client.button("account.invoice", POSTING[state], [invoice_id])
        state = "validated" if state == "draft" else "posted"
    if state not in DONE:
        raise PermanentSourceError("INVOICE_STATE", f"invoice {invoice_id} is {state} in Tryton")


async def _create_invoice(
    client: TrytonClient, kind: str, p: Payload, key: str, project_id: int
) -> int:
    """A draft invoice to the project's party: one line of its service product."""
    project = await _project(client, project_id)
    currency = str(nested(project, "company.currency.code"))
    if p.get("currency") not in (None, currency):
        raise InvalidPayload(kind, f"the project bills in {currency}, not {p['currency']}")
    party = await _party(client, int(project["party"]))
    invoice = {
        "type": "out",
        "company": project["company"],
        "party": party["id"],
        "invoice_address": party["address"],
        "account": party["receivable"],
        "journal": await _revenue_journal(client),
        "currency": nested(project, "company.currency"),
        "payment_term": party["customer_payment_term"],
        "reference": key,
        "description": project["name"],
        "lines": [["create", [_invoice_line(kind, p, project)]]],
        **_dates(kind, p),
    }
    (created,) = await client.create("account.invoice", [invoice])
    return created


async def _bill_project(
    client: TrytonClient, kind: str, p: Payload, key: str, project_id: int
) -> int:
    """No amount: Tryton's own Invoice button bills what the project has to bill.

    It links each record it bills (time not yet invoiced, effort, progress) to the invoice
    line, so nothing is ever billed twice; the draft it made is then stamped with the key.
    An unstamped draft billing the project is looked for first: a retry after a crash
    between the click and the stamp finds it (so does a draft made by hand in Tryton, which
    is then the one issued).
    """
    project = await _project(client, project_id)
    draft = await _unstamped_draft(client, project)
    if draft is None:
        await _click_invoice(client, project_id)
        draft = await _unstamped_draft(client, project)
    if draft is None:
        raise PermanentSourceError(
            "NOTHING_TO_INVOICE", f"project {project_id} has nothing to bill"
        )
    await client.write("account.invoice", [draft], {"reference": key, **_dates(kind, p)})
    return draft


async def _click_invoice(client: TrytonClient, project_id: int) -> None:
    """The project's Invoice button, which Tryton refuses (a bare "can not call") when the
    project bills by hand or has nothing to bill: those get a message of their own."""
    fields = ["project_invoice_method", "amount_to_invoice"]
    (project,) = await client.read("project.work", [project_id], fields)
    if project["project_invoice_method"] in (None, "manual"):
        detail = f"project {project_id} is invoiced by hand in Tryton: give an amount"
        raise PermanentSourceError("INVOICED_BY_HAND", detail)
    if not project["amount_to_invoice"]:
        raise PermanentSourceError(
            "NOTHING_TO_INVOICE", f"project {project_id} has nothing to bill"
        )
    await client.button("project.work", "invoice", [project_id])


async def _unstamped_draft(client: TrytonClient, project: dict[str, Any]) -> int | None:
    """The newest draft without a reference that bills ``project``, if any."""
    domain = [
        ["type", "=", "out"],
        ["party", "=", project["party"]],
        ["state", "=", "draft"],
        ["OR", ["reference", "=", None], ["reference", "=", ""]],
    ]
    billed = await projects.projects_of_invoices(
        client, await client.search("account.invoice", domain)
    )
    return max((i for i, root in billed.items() if root == project["id"]), default=None)


def _dates(kind: str, p: Payload) -> dict[str, Any]:
    """Issue date, and a given due date as the payment term date with no payment term
    (Tryton's single maturity is then exactly that day); else the party's term applies."""
    dates: dict[str, Any] = {"invoice_date": iso_day(kind, p, "issue_date")}
    if p.get("due_date"):
        dates |= {"payment_term": None, "payment_term_date": iso_day(kind, p, "due_date")}
    return dates


def _invoice_line(kind: str, p: Payload, project: dict[str, Any]) -> dict[str, Any]:
    """One line of the project's service product, the whole amount at quantity one."""
    revenue = nested(project, "product.account_category.account_revenue")
    if not project.get("product") or not revenue:
        detail = f"project {project['id']} has no service product with a revenue account"
        raise PermanentSourceError("NO_PRODUCT", detail)
    return {
        "type": "line",
        "product": project["product"],
        "unit": nested(project, "product.default_uom"),
        "quantity": 1.0,
        "unit_price": number(kind, p, "amount"),
        "account": revenue,
        "description": project["name"],
        "note": projects.project_note(int(project["id"])),  # what bills it: the project
    }


async def _project(client: TrytonClient, project_id: int) -> dict[str, Any]:
    found = await client.search_read(
        "project.work", [["id", "=", project_id]], PROJECT_FIELDS, context=ALL
    )
    if not found or not found[0].get("party"):
        raise PermanentSourceError("NOT_FOUND", f"Tryton has no client project {project_id}")
    return found[0]


def _timesheet_work(project: dict[str, Any]) -> int:
    """The timesheet work Tryton keeps for a project that takes time (its origin)."""
    works = project.get("timesheet_works") or []
    if not works:
        detail = f"project {project['id']} takes no timesheets in Tryton (Available off)"
        raise PermanentSourceError("NO_TIMESHEET_WORK", detail)
    return int(works[0])


async def _party(client: TrytonClient, party_id: int) -> dict[str, Any]:
    """The party's invoice address, receivable account (or the default) and payment term."""
    fields = ["addresses", "account_receivable", "customer_payment_term"]
    (party,) = await client.read("party.party", [party_id], fields)
    if not party["addresses"]:
        raise PermanentSourceError("NO_ADDRESS", f"party {party_id} has no address to invoice")
    receivable = party["account_receivable"]
    if not receivable:
        config = await client.read("account.configuration", [1], ["default_account_receivable"])
        receivable = config[0]["default_account_receivable"]
    return {**party, "address": party["addresses"][0], "receivable": receivable}


async def _revenue_journal(client: TrytonClient) -> int:
    journals = await client.search("account.journal", [["type", "=", "revenue"]])
    if not journals:
        raise PermanentSourceError("NO_JOURNAL", "Tryton has no revenue journal")
    return journals[0]


HANDLERS: dict[str, Handler] = {
    "update_opportunity": deals.update_opportunity,
    "mark_opportunity_won": deals.mark_opportunity_won,
    "log_time": log_time,
    "issue_invoice": issue_invoice,
    **handoff_writes.HANDLERS,  # the quote-to-project handoff's steps
}
