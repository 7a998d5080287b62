"""The handoff's NetSuite writes: customer, project (job), billing schedule, staffing requests.

Each record is written with ``PUT /record/v1/<type>/eid:<external id>`` (NetSuite's upsert
by external id), the external id derived from the handoff (``steps.external_id``), never from
the command: a repeat of a step, even a retried one under a new command, updates the record
the first run made instead of making a second one.

A customer is matched before it is created: by the read model's link (``customer_id``),
then by external id (the CRM account id, the convention identity resolution links by), then
by the identity rules (normalized domain, normalized name) over NetSuite's customers. A hit
by those rules is a *suspected duplicate*: the write refuses with ``DUPLICATE_SUSPECTED``,
and the handoff halts for a person to link or merge the records, rather than create a twin.
The project is matched the same way: a job NetSuite keeps for the deal (``deal_records``) is
linked, and its billing and staffing, if the firm set them up, are left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sync_jobs.commands.payload import text
from sync_jobs.commands.writes import InvalidPayload, Payload, WriteResult
from sync_jobs.connectors.netsuite import deal_records
from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.lists import currency_id
from sync_jobs.errors import PermanentSourceError
from sync_jobs.identity import normalize_domain, normalize_name

TERM_IDS = {15: "1", 30: "2", 45: "3", 60: "4", 0: "5"}
ACTIVE_JOB = "2"
DUPLICATE_SUSPECTED = "DUPLICATE_SUSPECTED"
Handler = Callable[[NetSuiteClient, Payload, str, datetime], Awaitable[WriteResult]]


class DuplicateSuspected(PermanentSourceError):
    """A customer that is probably this client already exists under another identity."""

    def __init__(self, name: str, matches: list[str]) -> None:
        message = f"NetSuite customer(s) {', '.join(matches)} look like {name!r}: link or merge"
        super().__init__(DUPLICATE_SUSPECTED, message)


async def ensure_customer(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """The client's ERP customer: found by link, then external id; else created."""
    if p.get("customer_id") and await client.get_record("customer", str(p["customer_id"])):
        return WriteResult("customer", str(p["customer_id"]))
    account = text("ensure_customer", p, "account_source_id")
    found = await client.get_record("customer", f"eid:{account}")
    if found is not None:
        return WriteResult("customer", str(found["id"]))
    suspects = await _suspects(client, str(p.get("name") or ""), p.get("domain"))
    if suspects:
        raise DuplicateSuspected(str(p.get("name")), suspects)
    return WriteResult("customer", await client.upsert("customer", account, _customer(p)))


async def _suspects(client: NetSuiteClient, name: str, domain: Any) -> list[str]:
    """Customers matching by normalized domain or name (the identity rules).

    Limit: reads every customer's id, name and web address (SuiteQL, paged); an account
    with very many customers would filter in the query instead.
    """
    want_name, want_domain = normalize_name(name), normalize_domain(domain)
    query = "SELECT id, companyname, url, email FROM customer ORDER BY id"
    hits: list[str] = []
    async for items in client.suiteql_all(query):
        for row in items:
            their = normalize_domain(
                row.get("url") or str(row.get("email") or "").partition("@")[2]
            )
            if (want_domain and their == want_domain) or normalize_name(
                row.get("companyname")
            ) == want_name:
                hits.append(str(row["id"]))
    return hits


def _customer(p: Payload) -> dict[str, Any]:
    domain = p.get("domain")
    return {
        "entityId": str(p.get("name"))[:80],
        "companyName": text("ensure_customer", p, "name"),
        "url": f"https://{domain}" if domain else None,
        "email": f"billing@{domain}" if domain else None,
        "currency": {"id": currency_id("ensure_customer", p.get("currency"))},
        "terms": {"id": TERM_IDS.get(int(p.get("terms_days") or 30), "2")},
        "isInactive": False,
        "searchStage": "Customer",
    }


async def create_project(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """A job under the customer, active, with its budget, rate card and dates, and the
    engagement the deal is delivered under (the deal's, else one made for it).

    The deal's own project, if NetSuite has one the handoff did not make, is linked instead:
    nothing is written (``deal_records.deal_project``).
    """
    kind = "create_project"
    external = text(kind, p, "external_id")
    if await client.get_record("job", f"eid:{external}") is None:
        theirs = await deal_records.deal_project(client, p.get("opportunity_id"))
        if theirs is not None:
            return WriteResult("job", theirs)
    engagement = str(p.get("engagement_id") or "") or await _engagement(client, p)
    fields = {
        "entityId": text(kind, p, "code"),
        "companyName": text(kind, p, "name"),
        "parent": {"id": text(kind, p, "customer_id")},
        "entityStatus": {"id": ACTIVE_JOB},
        "currency": {"id": currency_id(kind, p.get("currency"))},
        "startDate": text(kind, p, "start_date"),
        "projectedEndDate": p.get("end_date"),
        "custentity_cg_engagement": _ref(engagement),
        "custentity_cg_opportunity": p.get("opportunity_id"),
        "custentity_cg_billing_method": text(kind, p, "billing_method"),
        "custentity_cg_budget": text(kind, p, "budget"),
        "custentity_cg_budget_hours": text(kind, p, "budget_hours"),
        "custentity_cg_etc_cost": "0",
        "custentity_cg_rate_card": _ref(p.get("rate_card_id")),
        "custentity_cg_manager": p.get("manager_name"),
        "custentity_cg_activated_at": p.get("activated_at"),
    }
    job = await client.upsert("job", external, fields)
    return WriteResult("job", job, parents=(("engagement", engagement),))


async def _engagement(client: NetSuiteClient, p: Payload) -> str:
    """The contract the project is delivered under, made for a deal that has none: it
    names the deal, so the read model reaches the project from the opportunity."""
    kind = "create_project"
    fields = {
        "name": f"{text(kind, p, 'code')} {text(kind, p, 'name')}"[:300],
        "custrecord_cg_customer": {"id": text(kind, p, "customer_id")},
        "custrecord_cg_opportunity": p.get("opportunity_id"),
        "custrecord_cg_billing_method": text(kind, p, "billing_method"),
        "custrecord_cg_sold_value": text(kind, p, "budget"),
        "custrecord_cg_currency": {"id": currency_id(kind, p.get("currency"))},
        "custrecord_cg_start_date": text(kind, p, "start_date"),
        "custrecord_cg_end_date": p.get("end_date"),
        "custrecord_cg_signed_at": None,  # no signed SOW is known: the deal was won
        "custrecord_cg_status": "active",
    }
    return await client.upsert(
        deal_records.ENGAGEMENT, text(kind, p, "engagement_external_id"), fields
    )


async def create_billing_schedule(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """The invoicing rule on the job, and one milestone task per billing milestone; a job
    of the firm's that is billed already (a rule, milestone tasks) is left as it is."""
    kind = "create_billing_schedule"
    project_id = text(kind, p, "project_id")
    if await _theirs(client, p, project_id) and await deal_records.has_billing(client, project_id):
        return WriteResult("job", project_id)
    await client.update("job", project_id, {"custentity_cg_billing_schedule": p.get("schedule")})
    currency = {"id": currency_id(kind, p.get("currency"))}
    ids = []
    for item in p.get("milestones") or []:
        fields = {
            "title": item["name"],
            "company": {"id": project_id},
            "isMilestone": True,
            "endDate": item["due_date"],
            "status": {"id": "NOTSTART"},
            "custevent_cg_amount": item["amount"],
            "custevent_cg_currency": currency,
        }
        ids.append(await client.upsert("projecttask", item["external_id"], fields))
    if not ids:
        return WriteResult("job", project_id)
    return WriteResult("projecttask", ids[0], tuple(ids[1:]))


async def request_staffing(
    client: NetSuiteClient, p: Payload, key: str, now: datetime
) -> WriteResult:
    """One resource allocation per role, without a person yet (status ``requested``); a
    job of the firm's that is staffed already is left as it is."""
    kind = "request_staffing"
    project_id = text(kind, p, "project_id")
    if await _theirs(client, p, project_id) and await deal_records.has_staffing(client, project_id):
        return WriteResult("job", project_id)
    currency = {"id": currency_id(kind, p.get("currency"))}
    ids = []
    for item in p.get("requests") or []:
        fields = {
            "allocationResource": None,
            "project": {"id": project_id},
            "allocationAmount": item["hours"],
            "allocationUnit": "H",
            "startDate": p.get("start_date"),
            "endDate": p.get("end_date"),
            "custevent_cg_role": item["role"],
            "custevent_cg_bill_rate": item["bill_rate"],
            "custevent_cg_cost_rate": item["cost_rate"],
            "custevent_cg_currency": currency,
            "custevent_cg_status": "requested",
        }
        ids.append(await client.upsert("resourceallocation", item["external_id"], fields))
    if not ids:
        raise InvalidPayload(kind, "requests is empty")
    return WriteResult("resourceallocation", ids[0], tuple(ids[1:]))


HANDLERS: dict[str, Handler] = {
    "ensure_customer": ensure_customer,
    "create_project": create_project,
    "create_billing_schedule": create_billing_schedule,
    "request_staffing": request_staffing,
}


async def _theirs(client: NetSuiteClient, p: Payload, project_id: str) -> bool:
    return await deal_records.is_theirs(client, project_id, p.get("project_external_id"))


def _ref(value: Any) -> dict[str, str] | None:
    return {"id": str(value)} if value else None
