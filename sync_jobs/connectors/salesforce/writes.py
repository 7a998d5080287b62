"""Commands applied to Salesforce: opportunity updates, as ``PATCH /sobjects/Opportunity/<id>``.

Idempotency: every command here updates a record named by its Salesforce id, and a PATCH
sets fields to given values, so applying the same command again leaves the same record (only
``SystemModstamp`` moves). No command creates a Salesforce record today; one that does must
upsert by the external id field ``Clientgraph_Command_Id__c`` (``PATCH /sobjects/<Type>/
Clientgraph_Command_Id__c/<key>``), never ``POST``, so a retry cannot create a second record.
``IsWon``/``IsClosed`` are never sent: Salesforce derives them from ``StageName``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sync_jobs.commands.writes import InvalidPayload, Payload, UnsupportedCommand, WriteResult
from sync_jobs.connectors.salesforce import mapping
from sync_jobs.connectors.salesforce.client import SalesforceClient

EXTERNAL_ID_FIELD = "Clientgraph_Command_Id__c"  # for upserts, when a command creates
STAGE_NAMES = {stage: name for name, stage in mapping.STAGES.items()}  # canonical → picklist
WON_STAGE = "Closed Won"


async def apply_command(
    client: SalesforceClient, kind: str, payload: Payload, key: str
) -> WriteResult:
    """Apply one command (``key`` is unused until a command creates a record)."""
    if kind == "update_opportunity":
        changes = opportunity_changes(payload)
    elif kind == "mark_opportunity_won":
        changes = {"StageName": WON_STAGE}
    elif kind == "link_project_to_opportunity":  # the handoff's last step
        changes = {
            "Project_Id__c": _required(kind, payload, "project_id"),
            "Handoff_Status__c": str(payload.get("handoff_status") or "COMPLETED"),
        }
    else:
        raise UnsupportedCommand(mapping.SYSTEM, kind)
    record_id = _required(kind, payload, "opportunity_id")
    await client.update("Opportunity", record_id, changes)
    return WriteResult("opportunity", record_id)


def opportunity_changes(payload: Payload) -> dict[str, Any]:
    """The Opportunity fields an ``update_opportunity`` payload sets (absent: unchanged)."""
    changes: dict[str, Any] = {}
    if (stage := payload.get("stage")) is not None:
        if stage not in STAGE_NAMES:
            raise InvalidPayload("update_opportunity", f"unknown stage {stage!r}")
        changes["StageName"] = STAGE_NAMES[stage]
    if (close_date := payload.get("close_date")) is not None:
        changes["CloseDate"] = str(close_date)
    if (amount := payload.get("amount")) is not None:
        changes["Amount"] = _number("amount", amount)
    if (currency := payload.get("currency")) is not None:
        changes["CurrencyIsoCode"] = str(currency)
    if (probability := payload.get("probability")) is not None:
        changes["Probability"] = _number("probability", probability)
    if not changes:
        raise InvalidPayload("update_opportunity", "nothing to change")
    return changes


def _number(name: str, text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        raise InvalidPayload("update_opportunity", f"{name} is not a number: {text!r}") from None


def _required(kind: str, payload: Payload, name: str) -> str:
    value = payload.get(name)
    if not value:
        raise InvalidPayload(kind, f"{name} is required")
    return str(value)
