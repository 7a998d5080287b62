"""Which project a Tryton record belongs to: the root of a project work's path.

Time and invoice lines point at a project *work* (the project itself or one of its tasks,
``path`` = ``"<root id>/…/<id>/"``), sometimes through another record (a timesheet line's
timesheet work, an invoice line's origin). These lookups cost one or two calls per page,
never one per record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sync_jobs.connectors.tryton.client import TrytonClient

ALL = {"active_test": False}
PROJECT_FIELDS = ("party", "list_price", "project_invoice_method", "company.currency.code")
# What prices time booked on a work: its own list price and the invoice method it inherits
# from its project (Tryton bills a timesheet line at the list price of the work it is on).
WORK_FIELDS = ("path", "list_price", "invoice_method")


@dataclass(frozen=True)
class Booked:
    """The work a timesheet line is booked on, as Tryton prices it, and its root project."""

    project: dict[str, Any]
    list_price: Decimal
    invoice_method: str | None


def work_id(reference: str | None) -> int | None:
    """``"project.work,7"`` → 7; any other reference (or none) → ``None``."""
    model, _, record_id = str(reference or "").partition(",")
    return int(record_id) if model == "project.work" and record_id.isdigit() else None


async def roots(client: TrytonClient, work_ids: Iterable[int]) -> dict[int, int]:
    """Each work id → the id of its root project."""
    wanted = sorted(set(work_ids))
    if not wanted:
        return {}
    works = await client.search_read("project.work", [["id", "in", wanted]], ["path"], context=ALL)
    return {int(w["id"]): int(str(w["path"]).split("/")[0]) for w in works}


async def projects_of_works(
    client: TrytonClient, work_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """Each work id → its root project's ``id``, list price, invoice method and currency.

    Only projects with a party count: the connector pulls no others (a project row needs an
    account), so a reference to one would wait for a parent that never comes.
    """
    root_of = await roots(client, work_ids)
    if not root_of:
        return {}
    projects = await client.search_read(
        "project.work", [["id", "in", sorted(set(root_of.values()))]], PROJECT_FIELDS, context=ALL
    )
    by_id = {int(p["id"]): p for p in projects if p.get("party")}
    return {work: by_id[root] for work, root in root_of.items() if root in by_id}


async def booked_works(client: TrytonClient, work_ids: Iterable[int]) -> dict[int, Booked]:
    """Each work id → its price, invoice method and root project (projects with a party)."""
    wanted = sorted(set(work_ids))
    if not wanted:
        return {}
    works = await client.search_read(
        "project.work", [["id", "in", wanted]], WORK_FIELDS, context=ALL
    )
    project_of = await projects_of_works(client, wanted)
    return {
        int(w["id"]): Booked(
            project_of[int(w["id"])], w.get("list_price") or Decimal(0), w.get("invoice_method")
        )
        for w in works
        if int(w["id"]) in project_of
    }


async def projects_of_invoices(client: TrytonClient, invoice_ids: list[int]) -> dict[int, int]:
    """Each invoice id → the project its lines bill (the lowest id if they bill several).

    Invoice lines do not name what they bill; the billed records name their invoice line:
    timesheet lines (timesheet method), project works (effort) and invoiced progress
    (progress). Three searches per page find them; an invoice of no project is left out.
    """
    if not invoice_ids:
        return {}
    billed: list[tuple[int, int]] = []  # (invoice, work)
    for model, work_field in BILLED_BY:
        records = await client.search_read(
            model,
            [["invoice_line.invoice", "in", invoice_ids]],
            ["invoice_line.invoice", work_field],
            context=ALL,
        )
        billed += [(_invoice_of(r), w) for r in records if (w := _work_of(r, work_field))]
    billed += await _noted(client, invoice_ids)
    project_of = await projects_of_works(client, (work for _, work in billed))
    found: dict[int, int] = {}
    for invoice, work in billed:
        if work in project_of:
            root = int(project_of[work]["id"])
            found[invoice] = min(root, found.get(invoice, root))
    return found


# An invoice line of an amount given by hand bills no record Tryton links (an invoice line's
# origin cannot be a project): ``issue_invoice`` names the project in the line's note.
NOTE = re.compile(r"\bproject\.work,(\d+)\b")


def project_note(project_id: int) -> str:
    return f"Billed for project.work,{project_id}"


async def _noted(client: TrytonClient, invoice_ids: list[int]) -> list[tuple[int, int]]:
    """(invoice, work) of invoice lines whose note names the project they bill."""
    domain = [["invoice", "in", invoice_ids], ["note", "like", "%project.work,%"]]
    lines = await client.search_read("account.invoice.line", domain, ["invoice", "note"])
    return [
        (int(line["invoice"]), int(match.group(1)))
        for line in lines
        if (match := NOTE.search(str(line.get("note") or "")))
    ]


BILLED_BY = (  # what records point at the invoice line billing them, and at which work
    ("timesheet.line", "work.origin"),
    ("project.work", "id"),
    ("project.work.invoiced_progress", "work"),
)


def _invoice_of(record: dict[str, Any]) -> int:
    return int((record.get("invoice_line.") or {})["invoice"])


def _work_of(record: dict[str, Any], field: str) -> int | None:
    """The project work a billed record stands for (itself, its ``work``, its origin)."""
    if field == "id":
        return int(record["id"])
    if field == "work":
        return int(record["work"]) if record.get("work") else None
    return work_id((record.get("work.") or {}).get("origin"))
