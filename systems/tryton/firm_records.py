"""Load a generated firm's ERP/PSA half into Tryton with proteus (``firm.py`` plans it).

Runs in a process of its own (``python -m systems.tryton.firm_records``), like
``records.py``: trytond's global state (config, model pool) must not leak into the caller.
The plan is a JSON file of plain values, so this module knows Tryton and nothing of the
read model. Records are saved a client at a time with batched ``save``/``click`` calls,
one call per kind of record rather than one per record. Tryton's ORM still costs about
1.5 s per client (posting and paying invoices most): ~50 s for a 40-account firm, ~5 min
for 200, once per firm, which is why ``firm.py`` caches the result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from proteus import Model, config
from tqdm import tqdm

from systems.tryton.records import connect

Plan = dict[str, Any]
POST_BATCH = 20


def load(plan: Plan, *, progress: bool = True) -> None:
    """Employees first (time is booked by them), then each client with its records; the
    invoices are posted last, all in date order, because Tryton numbers them by date."""
    (term,) = Model.get("account.invoice.payment_term").find([("name", "=", "Net 30")])
    (product,) = Model.get("product.product").find([("type", "=", "service")], limit=1)
    (method,) = Model.get("account.invoice.payment.method").find([], limit=1)
    employees = _employees(plan["employees"], plan["since"])
    drafts: list[tuple[Any, dict[str, Any]]] = []
    for client in _bar(plan["clients"], "Tryton clients", progress):
        party = _party(client, term)
        works = _projects(client["projects"], party, product)
        _timesheets(client["time"], works, employees)
        drafts += _invoices(client["invoices"], party, product)
    _post([(i, p) for i, p in drafts if p["state"] == "posted"], progress)
    paid = [(i, Decimal(p["paid"])) for i, p in drafts if Decimal(p["paid"]) > 0]
    for invoice, amount in _bar(paid, "Tryton payments", progress):
        _pay(invoice, amount, method)


def _bar(items: list[Any], desc: str, progress: bool) -> Any:
    """A progress bar on stderr when it is a terminal (none in logs, none if not wanted)."""
    return tqdm(items, desc=desc, file=sys.stderr, disable=None if progress else True)


def _employees(people: list[dict[str, Any]], since: str) -> list[Any]:
    """Every person of the firm, as an employee whose party carries their email."""
    (company,) = Model.get("company.company").find([], limit=1)
    parties = []
    for person in people:
        party = Model.get("party.party")(name=person["name"])
        party.contact_mechanisms.new(type="email", value=person["email"])
        parties.append(party)
    Model.get("party.party").save(parties)
    employees = []
    for person, party in zip(people, parties, strict=True):
        employee = Model.get("company.employee")(party=party, company=company)
        employee.cost_prices.new(
            date=dt.date.fromisoformat(since), cost_price=Decimal(person["cost"])
        )
        employees.append(employee)
    Model.get("company.employee").save(employees)
    return employees


def _party(client: dict[str, Any], term: Any) -> Any:
    """The client, named exactly as in the CRM, with its website (identity matches on both)."""
    party = Model.get("party.party")(name=client["name"], customer_payment_term=term)
    if client["website"]:
        party.contact_mechanisms.new(type="website", value=client["website"])
    party.save()
    return party


def _projects(projects: list[dict[str, Any]], party: Any, product: Any) -> list[Any]:
    works = [
        Model.get("project.work")(
            name=p["name"],
            type="project",
            party=party,
            project_invoice_method=p["method"],
            product=product,
            list_price=Decimal(p["rate"]),
            effort_duration=dt.timedelta(hours=p["effort_hours"]),
            timesheet_available=True,
        )
        for p in projects
    ]
    Model.get("project.work").save(works)
    return works


def _timesheets(lines: list[dict[str, Any]], works: list[Any], employees: list[Any]) -> None:
    records = [
        Model.get("timesheet.line")(
            employee=employees[line["employee"]],
            date=dt.date.fromisoformat(line["date"]),
            duration=dt.timedelta(hours=line["hours"]),
            work=works[line["project"]].timesheet_works[0],
        )
        for line in lines
    ]
    Model.get("timesheet.line").save(records)


def _invoices(
    invoices: list[dict[str, Any]], party: Any, product: Any
) -> list[tuple[Any, dict[str, Any]]]:
    """Drafts of one service line for the invoice's total; void ones are cancelled now."""
    records = []
    for planned in invoices:
        invoice = Model.get("account.invoice")(
            type="out", party=party, invoice_date=dt.date.fromisoformat(planned["date"])
        )
        line = invoice.lines.new(product=product, quantity=1)
        line.unit_price = Decimal(planned["total"])
        line.description = planned["description"]
        records.append(invoice)
    Model.get("account.invoice").save(records)
    void = [r for r, p in zip(records, invoices, strict=True) if p["state"] == "cancelled"]
    Model.get("account.invoice").click(void, "cancel")
    return list(zip(records, invoices, strict=True))


def _post(invoices: list[tuple[Any, dict[str, Any]]], progress: bool) -> None:
    """Post in invoice-date order: Tryton refuses a number dated before one already given.
    Batches of ``POST_BATCH``, in that order, so the progress bar moves."""
    ordered = [i for i, _ in sorted(invoices, key=lambda pair: (pair[1]["date"], pair[0].id))]
    batches = [ordered[n : n + POST_BATCH] for n in range(0, len(ordered), POST_BATCH)]
    for batch in _bar(batches, "Tryton posting", progress):
        Model.get("account.invoice").click(batch, "post")


def _pay(invoice: Any, amount: Decimal, method: Any) -> None:
    pay = invoice.click("pay")
    pay.form.payment_method = method
    pay.form.amount = amount
    pay.execute("choice")
    if pay.state != "end":  # less than due: the wizard asks what the rest is
        pay.form.type = "partial"
        pay.execute("pay")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m systems.tryton.firm_records")
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--plan", type=Path, required=True, help="JSON written by firm.plan()")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    connect(args.config, args.database)
    # Invoices of the firm's past fall due in the past: Tryton warns, and we mean it.
    config.get_config().skip_warning = True
    load(json.loads(args.plan.read_text()), progress=not args.quiet)


if __name__ == "__main__":
    main()
