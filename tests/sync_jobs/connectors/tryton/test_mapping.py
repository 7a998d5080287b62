"""Tryton records → canonical rows, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sync_jobs.connectors.tryton import mapping, projects
from sync_jobs.rows import Ref

STAMP = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def record(**values: Any) -> dict[str, Any]:
    return {"id": 7, "last_modified_at": STAMP, **values}


def test_a_party_is_an_account_of_tryton() -> None:
    row = mapping.account(
        record(
            name="Acme", active=False, website="", **{"customer_payment_term.": {"name": "Net 45"}}
        )
    )

    assert (row.table, row.source_system, row.source_id, row.source_version) == (
        "account", "tryton", "7", STAMP,
    )  # fmt: skip
    assert row.values["status"] == "inactive"
    assert row.values["billing_terms_days"] == 45
    assert row.values["domain"] is None
    assert row.values["currency"] == "USD"


@pytest.mark.parametrize(
    ("state", "probability", "stage", "percent"),
    [
        ("lead", "0.25", "prospecting", 25),
        ("opportunity", "0.25", "qualification", 25),
        ("opportunity", "0.75", "proposal", 75),
        ("converted", "0.9", "negotiation", 90),
        ("won", "0.9", "closed_won", 100),
        ("lost", "0.5", "closed_lost", 0),
        ("cancelled", "0.5", "closed_lost", 0),
    ],
)
def test_opportunity_states_become_our_stages(
    state: str, probability: str, stage: str, percent: int
) -> None:
    row = mapping.opportunity(
        record(
            party=3, description="Audit", state=state, amount=Decimal("12345.67"),
            conversion_probability=Decimal(probability), start_date=date(2026, 6, 1),
            end_date=None, **{"currency.": {"code": "EUR"}},
        )
    )  # fmt: skip

    assert row.values["stage"] == stage
    assert row.values["probability"] == percent
    assert row.values["amount_minor"] == 1234567
    assert row.values["currency"] == "EUR"
    assert row.values["account_id"] == Ref("account", "tryton", "3")
    assert row.values["close_date"] == date(2026, 6, 1)  # no end date: the start date
    assert row.values["is_closed"] == (state in {"won", "lost", "cancelled"})


@pytest.mark.parametrize(
    ("method", "billing"),
    [
        ("effort", "time_and_materials"),
        ("timesheet", "time_and_materials"),
        ("progress", "fixed_fee"),
        ("manual", "milestone"),
        (None, "non_billable"),
    ],
)
def test_project_invoice_methods_become_billing_methods(method: str | None, billing: str) -> None:
    row = mapping.project(
        record(
            name="Rollout", number="P-7", party=3, project_invoice_method=method,
            revenue=Decimal("6150.00"), total_effort=timedelta(hours=41),
            create_date=STAMP, **{"status.": {"name": "Done"}},
        )
    )  # fmt: skip

    assert row.values["billing_method"] == billing
    assert row.values["budget_minor"] == 615000
    assert row.values["budget_hours_x100"] == 4100
    assert row.values["status"] == "completed"
    assert row.values["start_date"] == date(2026, 6, 30)


def timesheet_line(**values: Any) -> dict[str, Any]:
    return record(
        employee=1, date=date(2026, 6, 29), duration=timedelta(minutes=105),
        cost_price=Decimal("60.00"), create_date=STAMP, **values,
    )  # fmt: skip


def task(price: str, method: str | None = "timesheet") -> projects.Booked:
    """A task of project 2 (whose own price is 175.00) priced at ``price``."""
    project = {"id": 2, "list_price": Decimal("175.00"), "project_invoice_method": method}
    return projects.Booked(project, Decimal(price), method)


def test_a_timesheet_line_is_time_on_its_root_project_priced_by_its_work() -> None:
    row = mapping.time_entry(timesheet_line(), task("160.00"), "USD")

    assert row.values["project_id"] == Ref("project", "tryton", "2")
    assert row.values["person_id"] == Ref("person", "tryton", "1")
    assert row.values["hours_x100"] == 175
    assert (row.values["bill_rate_minor"], row.values["cost_rate_minor"]) == (16000, 6000)
    assert row.values["standard_rate_minor"] == 16000
    assert row.values["billable"] is True
    assert (row.values["status"], row.values["invoice_id"]) == ("approved", None)


def test_invoiced_time_keeps_the_price_it_was_invoiced_at() -> None:
    invoiced = {"invoice_line.": {"invoice": 4, "unit_price": Decimal("150.00")}}

    row = mapping.time_entry(timesheet_line(**invoiced), task("160.00"), "USD")

    assert row.values["bill_rate_minor"] == 15000  # what Tryton billed, not today's price
    assert row.values["standard_rate_minor"] == 16000
    assert row.values["status"] == "invoiced"
    assert row.values["invoice_id"] == Ref("invoice", "tryton", "4")


@pytest.mark.parametrize("method", ["effort", "progress", "manual", None])
def test_time_is_billable_only_where_tryton_invoices_timesheets(method: str | None) -> None:
    row = mapping.time_entry(timesheet_line(), task("160.00", method), "USD")

    assert row.values["billable"] is False


def test_a_payment_line_is_money_received_against_its_invoice() -> None:
    line = record(
        invoice_payment=4, debit=Decimal(0), credit=Decimal("647.50"), date=date(2026, 7, 1),
        reconciliation=None, **{"invoice_payment.": {"party": 3, "currency.": {"code": "EUR"}}},
    )  # fmt: skip

    row = mapping.payment(line)

    assert row.table == "payment"
    assert row.values["invoice_id"] == Ref("invoice", "tryton", "4")
    assert row.values["account_id"] == Ref("account", "tryton", "3")
    assert (row.values["amount_minor"], row.values["currency"]) == (64750, "EUR")
    assert (row.values["received_on"], row.values["status"]) == (date(2026, 7, 1), "received")
    assert mapping.payment({**line, "reconciliation": 9}).values["status"] == "applied"


@pytest.mark.parametrize(
    ("state", "to_pay", "status"),
    [
        ("draft", "600.00", "draft"),
        ("validated", "600.00", "draft"),
        ("posted", "600.00", "posted"),
        ("posted", "300.00", "partially_paid"),
        ("paid", "0.00", "paid"),
        ("cancelled", "0.00", "void"),
    ],
)
def test_invoice_status_comes_from_state_and_amount_to_pay(
    state: str, to_pay: str, status: str
) -> None:
    row = mapping.invoice(
        record(
            party=3, number="INV-1", state=state, invoice_date=date(2026, 6, 1),
            total_amount=Decimal("600.00"), amount_to_pay=Decimal(to_pay),
            **{"currency.": {"code": "USD"},
               "lines_to_pay.": [{"maturity_date": date(2026, 7, 31)},
                                 {"maturity_date": date(2026, 7, 1)}]},
        )
    )  # fmt: skip

    assert row.values["status"] == status
    assert row.values["balance_minor"] == int(Decimal(to_pay) * 100)
    assert row.values["due_date"] == date(2026, 7, 1)  # the earliest maturity


def test_a_draft_invoice_without_lines_to_pay_is_due_on_issue() -> None:
    assert mapping.due_date([], date(2026, 6, 1)) == date(2026, 6, 1)


def test_hours_round_half_even_to_the_hundredth() -> None:
    assert mapping.hours_x100(timedelta(hours=7, minutes=30)) == 750
    assert mapping.hours_x100(timedelta(seconds=18)) == 0  # 0.005 h → 0 (half-even)
    assert mapping.hours_x100(timedelta(seconds=54)) == 2  # 0.015 h → 0.02
    assert mapping.hours_x100(None) == 0


def test_a_deletion_is_versioned_at_the_time_it_was_seen() -> None:
    row = mapping.deletion("invoice", "9", STAMP)

    assert row.deleted_at == row.source_version == STAMP
    assert row.values == {}


def test_only_project_work_references_name_a_work() -> None:
    assert projects.work_id("project.work,7") == 7
    assert projects.work_id("timesheet.line,7") is None
    assert projects.work_id(None) is None


def test_a_handoff_projects_code_and_manager_come_from_its_comment() -> None:
    project = record(
        name="DNA-H00007 Data platform", number="12", party=3, create_date=STAMP,
        comment="[clientgraph-handoff-7-project]\ncode: DNA-H00007\nmanager: Grace Hopper",
    )  # fmt: skip

    row = mapping.project(project)

    assert (row.values["code"], row.values["manager_name"]) == ("DNA-H00007", "Grace Hopper")
    plain = mapping.project({**project, "comment": None})
    assert (plain.values["code"], plain.values["manager_name"]) == ("12", None)
