"""Salesforce records → canonical rows, as pure functions."""

from datetime import UTC, date, datetime
from decimal import Decimal

from sync_jobs.connectors.salesforce import mapping
from sync_jobs.rows import Ref

STAMP = "2026-06-30T12:34:56.789+0000"


def test_an_opportunity_keeps_exact_money_and_its_account_ref() -> None:
    row = mapping.opportunity(
        {
            "Id": "006A",
            "AccountId": "001P",
            "Name": "Deal",
            "StageName": "Negotiation/Review",
            "CloseDate": "2026-09-30",
            "Amount": Decimal("123456.78"),
            "CurrencyIsoCode": "EUR",
            "Probability": Decimal("75.0"),
            "IsWon": False,
            "IsClosed": False,
            "SystemModstamp": STAMP,
        }
    )
    assert row.table == "opportunity" and row.source_id == "006A"
    assert row.source_version == datetime(2026, 6, 30, 12, 34, 56, 789000, tzinfo=UTC)
    assert row.values["amount_minor"] == 12_345_678
    assert row.values["currency"] == "EUR" and row.values["probability"] == 75
    assert row.values["stage"] == "negotiation" and row.values["close_date"] == date(2026, 9, 30)
    assert row.values["account_id"] == Ref("account", "salesforce", "001P")


def test_a_custom_stage_is_placed_by_the_won_and_closed_flags() -> None:
    base = {
        "Id": "006B",
        "AccountId": "001P",
        "Name": "D",
        "CloseDate": "2026-01-01",
        "SystemModstamp": STAMP,
    }
    won = mapping.opportunity(
        {**base, "StageName": "Signed (custom)", "IsWon": True, "IsClosed": True}
    )
    open_ = mapping.opportunity(
        {**base, "StageName": "Workshop", "IsWon": False, "IsClosed": False}
    )
    assert won.values["stage"] == "closed_won" and open_.values["stage"] == "qualification"
    assert open_.values["currency"] == mapping.DEFAULT_CURRENCY
    assert open_.values["amount_minor"] == 0


def test_an_account_hierarchy_and_status() -> None:
    row = mapping.account(
        {
            "Id": "001C",
            "Name": "Child",
            "ParentId": "001P",
            "Type": "Prospect",
            "SystemModstamp": STAMP,
        }
    )
    top = mapping.account({"Id": "001P", "Name": "Parent", "SystemModstamp": STAMP})
    assert row.values["parent_id"] == Ref("account", "salesforce", "001P")
    assert row.values["status"] == "prospect"
    assert top.values["parent_id"] is None and top.values["status"] == "active"


def test_a_deleted_record_becomes_a_tombstone() -> None:
    row = mapping.contact(
        {
            "Id": "003X",
            "AccountId": "001P",
            "LastName": "Gone",
            "IsDeleted": True,
            "SystemModstamp": STAMP,
        }
    )
    assert row.deleted_at == row.source_version and row.values == {}
