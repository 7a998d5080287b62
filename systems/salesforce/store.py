"""The simulator's records: Account, Contact, Opportunity, as Salesforce returns them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Record = dict[str, Any]
# Hears every change: (sobject, record id, changeType "UPDATE" | "DELETE", new SystemModstamp).
ChangeListener = Callable[[str, str, str, datetime], None]


def sf_time(value: datetime) -> str:
    """Salesforce's datetime format: ``2026-06-30T12:00:00.000+0000``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_sf_time(text: str) -> datetime:
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


@dataclass
class Store:
    """Records by type and id; every change moves ``SystemModstamp`` forward.

    ``listeners`` hear every edit and delete after it is made, as Change Data Capture would
    publish it (a webhook sender subscribes here). Seeding with ``put`` is silent.
    """

    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    listeners: list[ChangeListener] = field(default_factory=list)

    def put(self, sobject: str, record: Record) -> Record:
        self.records.setdefault(sobject, {})[record["Id"]] = record
        return record

    def touch(self, sobject: str, record_id: str, changes: Record, at: datetime) -> Record:
        """Apply ``changes`` as a user edit at ``at`` (the new SystemModstamp)."""
        return self._change(sobject, record_id, changes, at, "UPDATE")

    def delete(self, sobject: str, record_id: str, at: datetime) -> None:
        self._change(sobject, record_id, {"IsDeleted": True}, at, "DELETE")

    def _change(
        self, sobject: str, record_id: str, changes: Record, at: datetime, change_type: str
    ) -> Record:
        record = self.records[sobject][record_id]
        record.update(changes)
        record["SystemModstamp"] = sf_time(at)
        for listener in self.listeners:
            listener(sobject, record_id, change_type, at)
        return record

    def rows(self, sobject: str, *, include_deleted: bool) -> list[Record]:
        found = self.records.get(sobject, {}).values()
        return [r for r in found if include_deleted or not r.get("IsDeleted")]


def from_seed(rows: dict[str, list[dict[str, Any]]]) -> Store:
    """A store holding the CRM side of a generated firm (``readmodel.seed`` rows)."""
    store = Store()
    ids = {row["id"]: row["source_id"] for row in rows.get("account", [])}
    for a in rows.get("account", []):
        store.put(
            "Account",
            {
                "Id": a["source_id"],
                "Name": a["name"],
                "ParentId": ids.get(a["parent_id"]),
                "Industry": a["industry"],
                "OwnerId": a["owner_name"],
                "Website": a["domain"],
                "CurrencyIsoCode": a["currency"],
                "Type": a["status"].title(),
                "SystemModstamp": sf_time(a["source_version"]),
                "IsDeleted": False,
            },
        )
    for c in rows.get("contact", []):
        store.put(
            "Contact",
            {
                "Id": c["source_id"],
                "AccountId": ids[c["account_id"]],
                "FirstName": c["first_name"],
                "LastName": c["last_name"],
                "Email": c["email"],
                "Title": c["title"],
                "SystemModstamp": sf_time(c["source_version"]),
                "IsDeleted": False,
            },
        )
    for o in rows.get("opportunity", []):
        store.put(
            "Opportunity",
            {
                "Id": o["source_id"],
                "AccountId": ids[o["account_id"]],
                "Name": o["name"],
                "StageName": STAGE_NAMES[o["stage"]],
                "CloseDate": o["close_date"].isoformat(),
                "Amount": _amount(o["amount_minor"]),
                "CurrencyIsoCode": o["currency"],
                "Probability": o["probability"],
                "IsWon": o["is_won"],
                "IsClosed": o["is_closed"],
                "OwnerId": o["owner_name"],
                "Service_Line__c": o["service_line"],
                "Project_Id__c": None,  # the delivery project, written back by the handoff
                "Handoff_Status__c": None,
                "SystemModstamp": sf_time(o["source_version"]),
                "IsDeleted": False,
            },
        )
    return store


def _amount(minor: int) -> Decimal:
    """Salesforce sends currency fields as JSON numbers; we keep them exact as Decimal."""
    return Decimal(minor) / 100


STAGE_NAMES = {
    "prospecting": "Prospecting",
    "qualification": "Qualification",
    "proposal": "Proposal/Price Quote",
    "negotiation": "Negotiation/Review",
    "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
}
