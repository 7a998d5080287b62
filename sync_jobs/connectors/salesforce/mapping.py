"""Salesforce records → canonical rows. Pure functions: no I/O, tested on their own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from readmodel.money import decimal_to_minor
from sync_jobs.rows import CanonicalRow, Ref

SYSTEM = "salesforce"
STAGES = {
    "Prospecting": "prospecting",
    "Qualification": "qualification",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    "Closed Won": "closed_won",
    "Closed Lost": "closed_lost",
}
ACCOUNT_STATUS = {"Prospect": "prospect", "Active": "active", "Inactive": "inactive"}
DEFAULT_CURRENCY = "USD"  # orgs without multi-currency report amounts in the corporate currency

ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "ParentId",
    "Industry",
    "OwnerId",
    "Website",
    "CurrencyIsoCode",
    "Type",
    "SystemModstamp",
    "IsDeleted",
)
CONTACT_FIELDS = (
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Email",
    "Title",
    "SystemModstamp",
    "IsDeleted",
)
OPPORTUNITY_FIELDS = (
    "Id",
    "AccountId",
    "Name",
    "StageName",
    "CloseDate",
    "Amount",
    "CurrencyIsoCode",
    "Probability",
    "IsWon",
    "IsClosed",
    "OwnerId",
    "Service_Line__c",
    "SystemModstamp",
    "IsDeleted",
)


def modstamp(record: dict[str, Any]) -> datetime:
    """``2026-06-30T12:00:00.000+0000`` → aware UTC datetime."""
    return datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")


def _row(table: str, record: dict[str, Any], values: dict[str, Any]) -> CanonicalRow:
    version = modstamp(record)
    if record.get("IsDeleted"):
        return CanonicalRow(table, SYSTEM, record["Id"], version, deleted_at=version)
    return CanonicalRow(table, SYSTEM, record["Id"], version, values)


def _account_ref(account_id: str | None) -> Ref | None:
    return None if account_id is None else Ref("account", SYSTEM, account_id)


def account(record: dict[str, Any]) -> CanonicalRow:
    return _row(
        "account",
        record,
        {
            "name": record["Name"],
            "parent_id": _account_ref(record.get("ParentId")),
            "industry": record.get("Industry"),
            "owner_name": record.get("OwnerId"),
            "currency": record.get("CurrencyIsoCode") or DEFAULT_CURRENCY,
            "billing_terms_days": 30,
            "status": ACCOUNT_STATUS.get(record.get("Type") or "", "active"),
            "domain": record.get("Website"),
        },
    )


def contact(record: dict[str, Any]) -> CanonicalRow:
    return _row(
        "contact",
        record,
        {
            "account_id": _account_ref(record["AccountId"]),
            "first_name": record.get("FirstName") or "",
            "last_name": record["LastName"],
            "email": record.get("Email"),
            "title": record.get("Title"),
            "status": "active",
        },
    )


def opportunity(record: dict[str, Any]) -> CanonicalRow:
    stage = STAGES.get(record["StageName"]) or _stage_from_flags(record)
    return _row(
        "opportunity",
        record,
        {
            "account_id": _account_ref(record["AccountId"]),
            "name": record["Name"],
            "stage": stage,
            "probability": int(Decimal(str(record.get("Probability") or 0))),
            "amount_minor": decimal_to_minor(Decimal(str(record.get("Amount") or 0))),
            "currency": record.get("CurrencyIsoCode") or DEFAULT_CURRENCY,
            "close_date": date.fromisoformat(record["CloseDate"]),
            "owner_name": record.get("OwnerId"),
            "service_line": record.get("Service_Line__c"),
            "is_won": bool(record.get("IsWon")),
            "is_closed": bool(record.get("IsClosed")),
            "closed_at": None,
        },
    )


def _stage_from_flags(record: dict[str, Any]) -> str:
    """A custom stage name: place it by the flags every org has."""
    if record.get("IsWon"):
        return "closed_won"
    return "closed_lost" if record.get("IsClosed") else "qualification"
