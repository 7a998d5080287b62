"""Records written with proteus straight on the database (no server): the firm and demo data.

Runs in a process of its own (``python -m systems.tryton.records``): trytond keeps global
state (its config, the pool of models), which must never leak into the caller's process.
The ``setup`` step follows the modules' own test helpers (``create_company``,
``create_chart``, ``create_fiscalyear``, ``set_fiscalyear_invoice_sequences``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from typing import Any

from proteus import Model, config

HOURLY_RATE = Decimal("150.00")
COST_RATE = Decimal("60.00")
INVOICE_METHODS = ("timesheet", "effort", "timesheet", "progress", "manual")


def connect(config_file: str, database: str) -> None:
    """Open the database in this process (proteus on trytond, no server)."""
    config.set_trytond(database=f"sqlite:///{database}", config_file=config_file)


def setup(today: dt.date) -> None:
    """Company (USD), chart, fiscal years around today, Net 30, an employee, a service."""
    from trytond.modules.account.tests.tools import create_chart, get_accounts
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.currency.tests.tools import get_currency

    party = Model.get("party.party")(name="Clientgraph Services LLC")
    party.save()
    create_company(party=party, currency=get_currency("USD"))
    company = get_company()
    create_chart(company)
    for year in (today.year - 1, today.year, today.year + 1):
        _fiscal_year(company, year)
    accounts = get_accounts(company)
    _payment_term()
    _payment_method(accounts["cash"])
    _service_product(accounts["revenue"])
    _employee(company, "Ada Consultant", dt.date(today.year - 1, 1, 1))


def _fiscal_year(company: Any, year: int) -> None:
    from trytond.modules.account.tests.tools import create_fiscalyear
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences

    span = (dt.date(year, 1, 1), dt.date(year, 12, 31))
    fiscal_year = set_fiscalyear_invoice_sequences(create_fiscalyear(company, span))
    fiscal_year.click("create_period")


def _payment_term() -> None:
    term = Model.get("account.invoice.payment_term")(name="Net 30")
    line = term.lines.new(type="remainder")
    line.relativedeltas.new(days=30)
    term.save()


def _payment_method(cash: Any) -> None:
    (journal,) = Model.get("account.journal").find([("type", "=", "cash")], limit=1)
    method = Model.get("account.invoice.payment.method")(
        name="Bank transfer", journal=journal, credit_account=cash, debit_account=cash
    )
    method.save()


def _service_product(revenue: Any) -> None:
    category = Model.get("product.category")(name="Services", accounting=True)
    category.account_revenue = revenue
    category.save()
    (hour,) = Model.get("product.uom").find([("name", "=", "Hour")])
    template = Model.get("product.template")(
        name="Consulting hour", default_uom=hour, type="service", list_price=HOURLY_RATE
    )
    template.account_category = category
    template.save()


def _employee(company: Any, name: str, since: dt.date) -> Any:
    party = Model.get("party.party")(name=name)
    party.save()
    employee = Model.get("company.employee")(party=party, company=company)
    employee.cost_prices.new(date=since, cost_price=COST_RATE)
    employee.save()
    return employee


def demo(count: int, today: dt.date) -> None:
    """``count`` clients, each with an opportunity, a project, two timesheet lines, and for
    timesheet-billed projects an invoice: in turn paid in part, paid, posted, left draft."""
    (term,) = Model.get("account.invoice.payment_term").find([("name", "=", "Net 30")])
    (employee,) = Model.get("company.employee").find([], limit=1)
    (product,) = Model.get("product.product").find([("type", "=", "service")], limit=1)
    invoices = 0
    for i in range(count):
        party = Model.get("party.party")(name=f"Client {i + 1:02d}", customer_payment_term=term)
        party.save()
        _opportunity(party, employee, i, today)
        project = _project(party, product, i)
        _timesheets(project, employee, i, today)
        if project.project_invoice_method == "timesheet":
            _invoice(project, invoices % 4, today)
            invoices += 1


def _opportunity(party: Any, employee: Any, i: int, today: dt.date) -> None:
    opportunity = Model.get("sale.opportunity")(
        party=party,
        description=f"Engagement {i + 1}",
        amount=Decimal("12345.67") + i,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=30 + i),
        employee=employee,
        conversion_probability=0.25 + (i % 3) / 4,
    )
    opportunity.save()
    step = i % 4  # lead, opportunity, lost, cancelled
    if step >= 1:
        opportunity.click("opportunity")
    if step == 2:
        opportunity.click("lost")
    if step == 3:
        opportunity.click("cancel")


def _project(party: Any, product: Any, i: int) -> Any:
    project = Model.get("project.work")(
        name=f"Project {i + 1:02d}",
        type="project",
        party=party,
        project_invoice_method=INVOICE_METHODS[i % len(INVOICE_METHODS)],
        product=product,
        list_price=HOURLY_RATE,
        effort_duration=dt.timedelta(hours=40 + i),
        timesheet_available=True,
    )
    project.save()
    return project


def _timesheets(project: Any, employee: Any, i: int, today: dt.date) -> None:
    (work,) = project.timesheet_works
    for days_ago, minutes in ((3, 150), (1, 90 + 15 * i)):
        line = Model.get("timesheet.line")(
            employee=employee,
            date=today - dt.timedelta(days=days_ago),
            duration=dt.timedelta(minutes=minutes),
            work=work,
        )
        line.save()


def _invoice(project: Any, turn: int, today: dt.date) -> None:
    project.click("invoice")
    invoice = Model.get("account.invoice").find(
        [("party", "=", project.party.id)], order=[("id", "DESC")], limit=1
    )[0]
    invoice.invoice_date = today - dt.timedelta(days=2)
    invoice.save()
    if turn == 3:
        return  # left draft
    invoice.click("post")
    if turn == 0:
        _pay(invoice, (invoice.total_amount / 2).quantize(Decimal("0.01")))
    elif turn == 1:
        _pay(invoice, invoice.total_amount)


def _pay(invoice: Any, amount: Decimal) -> None:
    (method,) = Model.get("account.invoice.payment.method").find([])
    pay = invoice.click("pay")
    pay.form.payment_method = method
    pay.form.amount = amount
    pay.execute("choice")
    if pay.state != "end":  # less than due: the wizard asks what the rest is
        pay.form.type = "partial"
        pay.execute("pay")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m systems.tryton.records")
    parser.add_argument("step", choices=("setup", "demo"))
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    connect(args.config, args.database)
    if args.step == "setup":
        setup(args.today)
    else:
        demo(args.count, args.today)


if __name__ == "__main__":
    main()
