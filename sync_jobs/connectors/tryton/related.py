"""Values that live on other records: the related models each object's values come from.

A record is pulled when its own ``last_modified_at`` moves, but some mapped values are read
through a relation, and editing the related record moves only *its* stamp: an employee's
name is its party's, an opportunity's owner is its employee's party, a project's budget and
hours add up its tasks, a time entry is priced by the work it is booked on (or by its
invoice line once invoiced), an invoice's total adds up its lines, a payment belongs to the
invoice that lists it. Each object type declares here which related models to watch and how
to find its records that depend on a changed related record; a pull reads the related
models' changes since its checkpoint (``Cursor.related``) and re-reads those dependents.

A *deleted* related record leaves no stamp anywhere (Tryton deletes for real): a deleted
task or invoice line reaches its project or invoice through the content reconciliation
(``VOLATILE``: records re-read in full by every reconciliation) instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sync_jobs.connectors.tryton.client import Domain, TrytonClient

ALL = {"active_test": False}
# Finds the dependents (ids of the object's own model, inside ``scope``) of changed records.
Finder = Callable[[TrytonClient, str, Domain, list[int]], Awaitable[list[int]]]


@dataclass(frozen=True)
class Related:
    """A related ``model`` whose changes (those ``domain`` selects) re-read the dependents
    ``find`` names."""

    model: str
    find: Finder
    domain: Domain = field(default_factory=list)


def via(path: str) -> Finder:
    """Dependents whose field ``path`` (dotted through relations) names a changed record."""

    async def find(client: TrytonClient, model: str, scope: Domain, ids: list[int]) -> list[int]:
        return await client.search(model, [*scope, [path, "in", ids]])

    return find


def via_reference(path: str, target: str) -> Finder:
    """Dependents whose reference field ``path`` names a changed ``target`` record, or a
    record under it (a task's time is priced by its task, its invoicing by the project's)."""

    async def find(client: TrytonClient, model: str, scope: Domain, ids: list[int]) -> list[int]:
        under = await client.search(target, [["parent", "child_of", ids]], context=ALL)
        references = [f"{target},{i}" for i in sorted(set(under) | set(ids))]
        return await client.search(model, [*scope, [path, "in", references]])

    return find


async def roots(client: TrytonClient, model: str, scope: Domain, ids: list[int]) -> list[int]:
    """The root projects of changed works (a task's effort and price add up in its root)."""
    works = await client.search_read("project.work", [["id", "in", ids]], ["path"], context=ALL)
    wanted = sorted({int(str(w["path"]).split("/")[0]) for w in works if w.get("path")})
    return await client.search(model, [*scope, ["id", "in", wanted]]) if wanted else []


RELATED: dict[str, tuple[Related, ...]] = {
    "account": (Related("account.invoice.payment_term", via("customer_payment_term")),),
    "person": (
        Related("party.party", via("party")),
        Related("party.contact_mechanism", via("party.contact_mechanisms")),
    ),
    "opportunity": (
        Related("company.employee", via("employee")),
        Related("party.party", via("employee.party")),
    ),
    "project": (
        # tasks and sub-projects: effort, revenue (list price × effort) add up in the root
        Related("project.work", roots, [["parent", "!=", None]]),
        Related("project.work.status", via("status")),
    ),
    "invoice": (Related("account.invoice.line", via("lines")),),
    "time_entry": (
        Related("project.work", via_reference("work.origin", "project.work")),
        Related("account.invoice.line", via("invoice_line")),
    ),
    "payment": (Related("account.invoice", via("invoice_payment")),),
}
# Records whose values a related record's *deletion* can change: no stamp moves, so every
# reconciliation re-reads them in full and compares content (a project loses a task; a draft
# invoice loses a line). Posted invoices' lines cannot be deleted.
VOLATILE: dict[str, Domain] = {
    "project": [],
    "invoice": [["state", "in", ["draft", "validated"]]],
}


def related_models(object_type: str) -> Sequence[Related]:
    return RELATED.get(object_type, ())
