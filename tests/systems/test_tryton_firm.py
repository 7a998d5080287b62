"""What the demo's Tryton gets from the generated firm (``systems.tryton.firm.plan``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from readmodel.seed import SeedConfig, generate_all
from systems.tryton.firm import MAX_INVOICES, MAX_PROJECTS, MAX_TIME, plan, template_key

TODAY = date(2026, 11, 23)


def test_plan_names_the_erp_clients_as_the_crm_does_and_stays_small() -> None:
    firm = generate_all(SeedConfig(accounts=40, seed=42, today=TODAY))
    accounts = {a["id"]: a for a in firm["account"]}
    erp = {x["account_id"] for x in firm["account_xref"]}

    planned = plan(firm, TODAY)

    expected = [(accounts[i]["name"], f"https://{accounts[i]['domain']}") for i in sorted(erp)]
    assert [(c["name"], c["website"]) for c in planned["clients"]] == expected
    assert len(planned["employees"]) == len(firm["person"])
    for client in planned["clients"]:
        assert len(client["projects"]) <= MAX_PROJECTS
        assert len(client["time"]) <= MAX_TIME
        assert len(client["invoices"]) <= MAX_INVOICES
        assert all(0 <= t["project"] < len(client["projects"]) for t in client["time"])
        for invoice in client["invoices"]:
            assert date(TODAY.year - 1, 1, 1) <= date.fromisoformat(invoice["date"]) <= TODAY
            assert Decimal(0) <= Decimal(invoice["paid"]) <= Decimal(invoice["total"])


def test_the_template_key_names_the_firm() -> None:
    key = template_key(40, 7, TODAY)
    assert key.endswith("-a40-s7-2026-11-23") and key != template_key(41, 7, TODAY)
