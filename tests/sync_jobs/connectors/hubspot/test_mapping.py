"""HubSpot records → canonical rows: strings to exact values, stages by id or by metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sync_jobs.connectors.hubspot import mapping
from sync_jobs.rows import Ref

STAMP = "2026-06-30T12:00:00.123Z"


def deal_record(**properties: str | None) -> dict[str, object]:
    base = {
        "dealname": "Data platform",
        "amount": "125000.10",
        "deal_currency_code": "EUR",
        "dealstage": "decisionmakerboughtin",
        "pipeline": "default",
        "closedate": "2026-07-31T00:00:00Z",
        "hs_deal_stage_probability": "0.8",
        "hs_is_closed_won": "false",
        "hs_lastmodifieddate": STAMP,
    }
    return {"id": "5000001", "properties": base | properties, "updatedAt": STAMP}


def test_a_deal_keeps_its_amount_exact_in_minor_units_and_its_currency() -> None:
    row = mapping.deal(deal_record(), "1001", {})
    assert row.source_version == datetime(2026, 6, 30, 12, 0, 0, 123000, tzinfo=UTC)
    assert row.values["amount_minor"] == 12500010 and row.values["currency"] == "EUR"
    assert row.values["account_id"] == Ref("account", "hubspot", "1001")
    assert (row.values["stage"], row.values["probability"]) == ("negotiation", 80)
    assert row.values["close_date"] == date(2026, 7, 31)


def test_a_custom_stage_is_placed_by_its_pipeline_metadata() -> None:
    pipelines = [
        {
            "id": "services",
            "stages": [
                {"id": "9001", "metadata": {"isClosed": "false", "probability": "0.3"}},
                {"id": "9002", "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "9003", "metadata": {"isClosed": "true", "probability": "0.0"}},
            ],
        }
    ]
    stages = mapping.stages_of(pipelines)
    won = mapping.deal(deal_record(dealstage="9002", hs_deal_stage_probability=None), "1", stages)
    assert [
        mapping.deal(deal_record(dealstage=s), "1", stages).values["stage"] for s in stages
    ] == [
        "qualification",
        "closed_won",
        "closed_lost",
    ]
    assert (won.values["is_won"], won.values["is_closed"], won.values["probability"]) == (
        True,
        True,
        100,
    )


def test_the_won_flag_wins_over_an_unknown_stage() -> None:
    row = mapping.deal(deal_record(dealstage="unknown", hs_is_closed_won="true"), "1", {})
    assert row.values["stage"] == "closed_won" and row.values["is_won"]


def test_a_company_and_its_parent_and_a_contact() -> None:
    company = {
        "id": "1002",
        "properties": {
            "name": "Acme GmbH",
            "domain": "acme.example",
            "hs_parent_company_id": "1001",
            "lifecyclestage": "customer",
            "hs_lastmodifieddate": STAMP,
        },
        "updatedAt": STAMP,
    }
    row = mapping.company(company)
    assert row.values["parent_id"] == Ref("account", "hubspot", "1001")
    assert (row.values["status"], row.values["currency"]) == ("active", "USD")
    contact = {
        "id": "2000001",
        "properties": {"firstname": "Ada", "lastname": "L", "lastmodifieddate": STAMP},
        "updatedAt": STAMP,
    }
    assert mapping.contact(contact, "1002").values["account_id"].source_id == "1002"


def test_an_archived_record_is_a_deletion_at_its_archived_time() -> None:
    record = {"id": "7", "archivedAt": "2026-07-01T08:00:00Z", "updatedAt": STAMP}
    row = mapping.archived("deals", record, "opportunity")
    assert row.deleted_at == row.source_version == datetime(2026, 7, 1, 8, tzinfo=UTC)


def test_numbers_that_are_not_numbers_become_none() -> None:
    assert mapping.number("12.5") == Decimal("12.5") and mapping.number("n/a") is None
