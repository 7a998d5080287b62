"""NetSuite records → canonical rows, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sync_jobs.connectors.netsuite import mapping
from sync_jobs.rows import Ref

STAMP = "2026-06-30T12:34:56.789Z"
VERSION = datetime(2026, 6, 30, 12, 34, 56, 789000, tzinfo=UTC)


def test_a_customer_is_a_client_named_by_its_crm_id() -> None:
    row = mapping.customer(
        {
            "id": "500007",
            "lastmodifieddate": STAMP,
            "externalid": "0015g0000000000007",
            "companyname": "Contoso Retail Ltd",
            "url": "https://contoso-retail-7.example",
            "currency": "4",
            "terms": "3",
            "parent": "500002",
            "isinactive": "F",
            "searchstage": "Customer",
            "custentity_cg_industry": "Retail",
            "custentity_cg_owner": "Alex Morgan",
        }
    )
    assert (row.table, row.source_system, row.source_id) == ("account", "netsuite", "500007")
    assert row.external_id == "0015g0000000000007" and row.source_version == VERSION
    assert row.values == {
        "name": "Contoso Retail Ltd",
        "parent_id": Ref("account", "netsuite", "500002"),
        "industry": "Retail",
        "owner_name": "Alex Morgan",
        "currency": "EUR",
        "billing_terms_days": 45,
        "status": "active",
        "domain": "contoso-retail-7.example",
    }


def test_customer_status_and_domain_fallbacks() -> None:
    base = {"id": "1", "lastmodifieddate": STAMP, "companyname": "X", "currency": "1"}
    inactive = mapping.customer({**base, "isinactive": "T", "email": "ap@x.example"})
    prospect = mapping.customer({**base, "searchstage": "Prospect"})
    assert inactive.values["status"] == "inactive" and inactive.values["domain"] == "x.example"
    assert prospect.values["status"] == "prospect" and prospect.external_id is None
    assert prospect.values["billing_terms_days"] == mapping.DEFAULT_TERMS_DAYS


def test_money_and_hours_stay_exact() -> None:
    entry = mapping.time_entry(
        {
            "id": "9",
            "lastmodifieddate": STAMP,
            "customer": "300",
            "employee": "400",
            "trandate": "2026-06-04",
            "hours": Decimal("7.25"),
            "isbillable": "T",
            "rate": Decimal("123456789.01"),
            "custcol_cg_standard_rate": 250,
            "custcol_cg_cost_rate": Decimal("0.1"),
            "custcol_cg_currency": "1",
            "approvalstatus": "2",
            "custcol_cg_invoice": "77",
        }
    )
    assert entry.values["hours_x100"] == 725
    assert entry.values["bill_rate_minor"] == 12_345_678_901
    assert entry.values["standard_rate_minor"] == 25_000
    assert entry.values["cost_rate_minor"] == 10
    assert entry.values["status"] == "invoiced"
    assert entry.values["invoice_id"] == Ref("invoice", "netsuite", "77")
    assert entry.values["project_id"] == Ref("project", "netsuite", "300")
    assert entry.values["work_date"] == date(2026, 6, 4) and entry.values["billable"] is True


@pytest.mark.parametrize(
    ("status", "remaining", "expected"),
    [
        ("A", "100.00", "posted"),
        ("A", "40.00", "partially_paid"),
        ("B", "0", "paid"),
        ("D", "100.00", "draft"),
        ("V", "0", "void"),
    ],
)
def test_invoice_status_follows_netsuite_and_the_amount_remaining(
    status: str, remaining: str, expected: str
) -> None:
    row = mapping.invoice(
        {
            "id": "5",
            "lastmodifieddate": STAMP,
            "entity": "500001",
            "currency": "1",
            "trandate": "2026-06-01",
            "duedate": "2026-07-01",
            "total": Decimal("100.00"),
            "amountremaining": Decimal(remaining),
            "status": status,
        }
    )
    assert row.values["status"] == expected
    assert row.values["account_id"] == Ref("account", "netsuite", "500001")
    assert row.values["project_id"] is None


def test_an_engagement_names_its_salesforce_opportunity() -> None:
    base = {
        "id": "100001",
        "lastmodifieddate": STAMP,
        "name": "Strategy SOW 1",
        "custrecord_cg_customer": "500002",
        "custrecord_cg_sold_value": Decimal("29507.00"),
        "custrecord_cg_currency": "4",
        "custrecord_cg_start_date": "2026-04-15",
        "custrecord_cg_signed_at": "2026-04-06T17:00:00.000Z",
    }
    won = mapping.engagement({**base, "custrecord_cg_opportunity": "0065g0000000000006"})
    direct = mapping.engagement(base)
    assert won.values["opportunity_id"] == Ref("opportunity", "salesforce", "0065g0000000000006")
    assert direct.values["opportunity_id"] is None
    assert won.values["sold_value_minor"] == 2_950_700 and won.values["end_date"] is None
    assert won.values["signed_at"] == datetime(2026, 4, 6, 17, tzinfo=UTC)


def test_a_task_that_is_not_a_milestone_is_a_deletion() -> None:
    task = {"id": "8", "lastmodifieddate": STAMP, "company": "3", "title": "Build"}
    demoted = mapping.milestone({**task, "ismilestone": "F"})
    kept = mapping.milestone(
        {
            **task,
            "ismilestone": "T",
            "enddate": "2026-08-01",
            "status": "COMPLETE",
            "custevent_cg_currency": "1",
        }
    )
    assert demoted.deleted_at == demoted.source_version and demoted.table == "milestone"
    assert kept.values["status"] == "completed" and kept.deleted_at is None


def test_the_record_api_shape_flattens_to_suiteql_rows() -> None:
    record = {
        "links": [{"rel": "self", "href": "..."}],
        "id": "5",
        "lastModifiedDate": STAMP,
        "entity": {"id": "500001", "refName": "Contoso"},
        "isInactive": False,
    }
    assert mapping.flatten(record) == {
        "id": "5",
        "lastmodifieddate": STAMP,
        "entity": "500001",
        "isinactive": False,
    }


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="currency"):
        mapping.payment({"id": "1", "lastmodifieddate": STAMP, "currency": "99"})
