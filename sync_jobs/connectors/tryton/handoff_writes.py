"""The handoff's Tryton writes: Tryton is CRM, ERP and PSA at once, so every step lands here.

Tryton has no upsert by external id, so each write is found before it is made, by a key
kept in a free-text field: the project's and the milestones' ``comment`` hold the handoff's
external id (``[clientgraph-handoff-7-project]``), the opportunity's note names the project
(``project.work,12``). A repeat of a step, even an operator's retry under a new command,
finds what the first run made instead of making a second one.

* ``ensure_customer``: the client *is* a party (Tryton is the account master), so nothing
  is created; a party without a customer payment term gets the "Net N" term of the
  account's billing terms, if Tryton has one.
* ``create_project``: a project whose comment names the deal (``opportunity:
  sale.opportunity,<id>``) is linked, its invoicing and staffing left to the firm; else
  a ``project.work`` of type project for the party, invoiced by the
  billing method (``INVOICE_METHODS``), priced with the firm's service product: effort =
  the budget hours (sold value ÷ the product's list price when no rate card priced them),
  list price = sold value ÷ effort, so Tryton's revenue is the sold value. Tryton numbers
  works from its own sequence (``number`` is read-only) and has no project manager, so the
  handoff's code and manager are ``code:`` and ``manager:`` lines of the project's comment,
  which the connector reads back (``mapping.comment_line``).
* ``create_billing_schedule``: milestone billing → one child task per milestone (amount
  and due date in its comment; Tryton has no milestone model and invoices ``manual``
  projects by hand). Every method's invoicing rule is recorded on the project's comment.
* ``request_staffing``: Tryton's projects have no resource requests; the roles and hours
  asked for are recorded on the project's comment for the PMO, and the step succeeds so
  the handoff can complete (staffing is then done in Tryton by hand).
* ``link_project_to_opportunity``: a won opportunity is read-only in Tryton (its comment
  too), so the project's reference is written as a note (``ir.note``) on the opportunity,
  and the opportunity's reference on the project's comment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sync_jobs.commands.writes import InvalidPayload, Payload, WriteResult
from sync_jobs.connectors.tryton import mapping
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.payload import iso_day, number, record_id
from sync_jobs.errors import PermanentSourceError

ALL = {"active_test": False}
WORK = "project.work"
# Billing method → Tryton's project invoice method (``mapping.BILLING_METHODS`` reads them
# back; a retainer and a non-billable project are invoiced by hand, read back as milestone).
INVOICE_METHODS = {
    "time_and_materials": "effort",
    "fixed_fee": "progress",
    "milestone": "manual",
    "retainer": "manual",
    "non_billable": "manual",
}
DEAL_LABEL = "opportunity"  # the project's comment line naming its deal
HOURS, PRICE = Decimal("0.01"), Decimal("0.0001")  # Tryton's price digits are 4
Handler = Callable[[TrytonClient, Payload, str], Awaitable[WriteResult]]


async def ensure_customer(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """The party the deal was won for; given the account's payment term if it has none."""
    kind = "ensure_customer"
    party_id = record_id(kind, {"id": p.get("customer_id") or p.get("account_source_id")}, "id")
    fields = ["customer_payment_term"]
    found = await client.search_read("party.party", [["id", "=", party_id]], fields, context=ALL)
    if not found:
        raise PermanentSourceError("NOT_FOUND", f"Tryton has no party {party_id}")
    if found[0]["customer_payment_term"] is None:
        term = await _payment_term(client, str(p.get("terms_days") or "30"))
        if term is not None:
            await client.write("party.party", [party_id], {"customer_payment_term": term})
    return WriteResult("account", str(party_id))


async def _payment_term(client: TrytonClient, days: str) -> int | None:
    terms = await client.search("account.invoice.payment_term", [["name", "=", f"Net {days}"]])
    return terms[0] if terms else None


async def create_project(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """The project for the party, unless the handoff's project, or a project naming the
    deal (``opportunity: sale.opportunity,<id>`` on its comment), exists already."""
    kind = "create_project"
    tag = _tag(kind, p)
    found = await _tagged(client, [["type", "=", "project"]], tag)
    if found is None:
        found = await deal_project(client, p.get("opportunity_id"))
    if found is not None:
        return WriteResult("project", str(found))
    product = await _service_product(client)
    hours, price = effort(kind, p, product["list_price"])
    values = {
        "type": "project",
        "name": f"{_text(kind, p, 'code')} {_text(kind, p, 'name')}",
        "party": record_id(kind, p, "customer_id"),
        "project_invoice_method": _invoice_method(kind, p),
        "product": product["id"],
        "list_price": price,
        "effort_duration": timedelta(seconds=int(hours * 3600)),
        "timesheet_available": True,
        "timesheet_start_date": iso_day(kind, p, "start_date"),
        "timesheet_end_date": iso_day(kind, p, "end_date"),
        "comment": "\n".join([tag, *_deal_line(p), *_identity_lines(kind, p)]),
    }
    (created,) = await client.create(WORK, [values])
    return WriteResult("project", str(created))


async def deal_project(client: TrytonClient, deal: Any) -> int | None:
    """The project whose comment names the deal ``sale.opportunity,<deal>`` (the reference
    the handoff keeps, and a firm can add by hand), if any."""
    if not deal:
        return None
    line = f"{DEAL_LABEL}: sale.opportunity,{deal}"
    domain = [["type", "=", "project"], ["comment", "like", f"%{line}%"]]
    found = await client.search_read(WORK, domain, ["comment"], order=[["id", "ASC"]], context=ALL)
    exact = [w for w in found if line in str(w["comment"] or "").splitlines()]
    return int(exact[0]["id"]) if exact else None


def _deal_line(p: Payload) -> list[str]:
    deal = p.get("opportunity_id")
    return [f"{DEAL_LABEL}: sale.opportunity,{deal}"] if deal else []


async def theirs(client: TrytonClient, p: Payload, project: int) -> bool:
    """Whether the project was made by someone else (the firm), not by this handoff: its
    comment lacks the handoff's tag. Its invoicing and staffing are then the firm's."""
    ours = p.get("project_external_id")
    if not ours:
        return False
    (work,) = await client.read(WORK, [project], ["comment"])
    return f"[{ours}]" not in str(work["comment"] or "")


def _identity_lines(kind: str, p: Payload) -> list[str]:
    """The handoff's project code and manager, where Tryton has no field for them."""
    lines = [f"{mapping.CODE_LINE}{_text(kind, p, 'code')}"]
    if p.get("manager_name"):
        lines.append(f"{mapping.MANAGER_LINE}{p['manager_name']}")
    return lines


def effort(kind: str, p: Payload, product_price: Decimal) -> tuple[Decimal, Decimal]:
    """(hours, list price) whose product is the sold value (to a cent's rounding).

    Hours come from the rate card when one priced them (``budget_hours``), else from the
    firm's service product's list price; the list price is then the sold value ÷ hours.
    """
    budget = number(kind, p, "budget")
    hours = number(kind, p, "budget_hours") if p.get("budget_hours") else Decimal(0)
    if hours <= 0:
        if product_price <= 0:
            raise InvalidPayload(kind, "no rate card and no list price to plan hours with")
        hours = (budget / product_price).quantize(HOURS, rounding=ROUND_HALF_EVEN)
    if hours <= 0:
        raise InvalidPayload(kind, "the budget buys no hours")
    return hours, (budget / hours).quantize(PRICE, rounding=ROUND_HALF_EVEN)


async def create_billing_schedule(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """The invoicing rule on the project; a child task per milestone (milestone billing)."""
    kind = "create_billing_schedule"
    project = record_id(kind, p, "project_id")
    if await theirs(client, p, project):
        return WriteResult("project", str(project))
    await set_line(client, project, "billing", str(p.get("schedule") or "{}"))
    if p.get("billing_method") == "milestone":
        for item in p.get("milestones") or []:
            await _milestone(client, project, item, str(p.get("currency") or ""))
    return WriteResult("project", str(project))


async def _milestone(
    client: TrytonClient, project: int, item: dict[str, Any], currency: str
) -> int:
    tag = f"[{item['external_id']}]"
    found = await _tagged(client, [["parent", "=", project]], tag)
    if found is not None:
        return found
    note = f"{tag}\nmilestone: {item['amount']} {currency} due {item['due_date']}"
    task = {"type": "task", "name": str(item["name"]), "parent": project, "comment": note}
    (created,) = await client.create(WORK, [task])
    return created


async def request_staffing(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """Recorded on the project, not requested: Tryton has no resource requests.

    Each role's hours are its share of the project's effort, so they add up to what
    ``create_project`` planned (rounded to the hundredth).
    """
    kind = "request_staffing"
    project = record_id(kind, p, "project_id")
    if await theirs(client, p, project):
        return WriteResult("project", str(project))
    (work,) = await client.read(WORK, [project], ["effort_duration"])
    hours = Decimal((work["effort_duration"] or timedelta()).total_seconds()) / 3600
    asked = ", ".join(
        f"{r['role']} {_share(hours, r.get('percent'), r.get('hours'))} h"
        for r in p.get("requests") or []
    )
    await set_line(client, project, "staffing requested", asked or "none")
    return WriteResult("project", str(project))


def _share(hours: Decimal, percent: Any, planned: Any) -> Decimal:
    """A role's hours: its share of the project's effort (Tryton planned the hours from its
    own list price, the plan's hours need a rate card), else the plan's."""
    if percent is None:
        return Decimal(str(planned or 0))
    return (hours * Decimal(str(percent)) / 100).quantize(HOURS, rounding=ROUND_HALF_EVEN)


async def link_project_to_opportunity(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """A note on the (read-only, won) opportunity naming the project, and back."""
    kind = "link_project_to_opportunity"
    deal, project = record_id(kind, p, "opportunity_id"), record_id(kind, p, "project_id")
    await set_line(client, project, DEAL_LABEL, f"sale.opportunity,{deal}")
    resource, reference = f"sale.opportunity,{deal}", f"project.work,{project}"
    mine = [["resource", "=", resource], ["message", "like", f"%{reference}%"]]
    if not await client.search("ir.note", mine):
        (work,) = await client.read(WORK, [project], ["rec_name"])
        message = f"Project {work['rec_name']} ({reference}): handoff {p.get('handoff_status')}"
        await client.create("ir.note", [{"resource": resource, "message": message}])
    return WriteResult("opportunity", str(deal))


async def set_line(client: TrytonClient, project: int, label: str, text: str) -> None:
    """Set the ``label: text`` line of the project's comment (written only if it differs)."""
    (work,) = await client.read(WORK, [project], ["comment"])
    lines = str(work["comment"] or "").splitlines()
    wanted = f"{label}: {text}"
    kept = [line for line in lines if not line.startswith(f"{label}: ")]
    if wanted not in lines or len(kept) != len(lines) - 1:
        await client.write(WORK, [project], {"comment": "\n".join([*kept, wanted])})


async def _tagged(client: TrytonClient, domain: list[Any], tag: str) -> int | None:
    """The work whose comment carries ``tag`` (inactive ones too), if any."""
    mine = [*domain, ["comment", "like", f"%{tag}%"]]
    found = await client.search_read(WORK, mine, ["id"], order=[["id", "ASC"]], context=ALL)
    return int(found[0]["id"]) if found else None


async def _service_product(client: TrytonClient) -> dict[str, Any]:
    """The firm's service product (the lowest id): what hours are sold and invoiced as."""
    found = await client.search_read(
        "product.product", [["type", "=", "service"]], ["list_price_used"], limit=1,
        order=[["id", "ASC"]],
    )  # fmt: skip
    if not found:
        raise PermanentSourceError("NO_PRODUCT", "Tryton has no service product to sell hours")
    return {"id": found[0]["id"], "list_price": Decimal(str(found[0]["list_price_used"] or 0))}


def _invoice_method(kind: str, p: Payload) -> str:
    method = str(p.get("billing_method"))
    if method not in INVOICE_METHODS:
        raise InvalidPayload(kind, f"unknown billing method {method!r}")
    return INVOICE_METHODS[method]


def _tag(kind: str, p: Payload) -> str:
    return f"[{_text(kind, p, 'external_id')}]"


def _text(kind: str, p: Payload, name: str) -> str:
    value = p.get(name)
    if value in (None, ""):
        raise InvalidPayload(kind, f"{name} is required")
    return str(value)


HANDLERS: dict[str, Handler] = {
    "ensure_customer": ensure_customer,
    "create_project": create_project,
    "create_billing_schedule": create_billing_schedule,
    "request_staffing": request_staffing,
    "link_project_to_opportunity": link_project_to_opportunity,
}
