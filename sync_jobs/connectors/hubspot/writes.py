"""Commands applied to HubSpot: deal updates, as ``PATCH /crm/v3/objects/deals/<id>``.

Idempotency: every command here updates a deal named by its HubSpot id, and a PATCH sets
properties to given values, so applying the same command again leaves the same deal (only
``hs_lastmodifieddate`` moves); a write whose answer was lost is simply sent again. No
command creates a HubSpot record today; one that does must upsert by a unique property
holding the command's key (``POST /crm/v3/objects/<type>/batch/upsert`` with ``idProperty``),
never a plain create.

A stage is a stage *id* of the deal's own pipeline: the deal's pipeline is read first, and
the first stage (by display order) whose canonical stage is the one asked for is written.
Won is the pipeline's closed stage with probability 1, which is how the handoff is started
once sync sees the deal won (or at once, when ``markOpportunityWon`` succeeds). HubSpot
computes a deal's probability from its stage, so a probability is refused, not dropped.
The handoff's write-back uses two custom deal properties the firm creates
(``clientgraph_project_id``, ``clientgraph_handoff_status``; docs/sync.md).
"""

from __future__ import annotations

from typing import Any

from sync_jobs.commands.payload import number, text
from sync_jobs.commands.writes import InvalidPayload, Payload, UnsupportedCommand, WriteResult
from sync_jobs.connectors.hubspot import mapping
from sync_jobs.connectors.hubspot.client import HubSpotClient
from sync_jobs.errors import PermanentSourceError

DEALS = "deals"
PROJECT_PROPERTY = "clientgraph_project_id"
HANDOFF_PROPERTY = "clientgraph_handoff_status"
STAGES = frozenset(mapping.DEFAULT_STAGES.values())


async def apply_command(
    client: HubSpotClient, kind: str, payload: Payload, key: str
) -> WriteResult:
    """Apply one command (``key`` is unused until a command creates a record)."""
    if kind == "update_opportunity":
        changes = deal_changes(payload)
    elif kind == "mark_opportunity_won":
        changes = {"dealstage": "closed_won"}
    elif kind == "link_project_to_opportunity":  # the handoff's last step
        changes = {
            PROJECT_PROPERTY: text(kind, payload, "project_id"),
            HANDOFF_PROPERTY: str(payload.get("handoff_status") or "COMPLETED"),
        }
    else:
        raise UnsupportedCommand(mapping.SYSTEM, kind)
    deal_id = text(kind, payload, "opportunity_id")
    if "dealstage" in changes:
        changes["dealstage"] = await stage_id(client, deal_id, changes["dealstage"])
    await client.update(DEALS, deal_id, changes)
    return WriteResult("opportunity", deal_id)


def deal_changes(payload: Payload) -> dict[str, Any]:
    """The deal properties an ``update_opportunity`` payload sets (the stage still canonical)."""
    changes: dict[str, Any] = {}
    if (stage := payload.get("stage")) is not None:
        if stage not in STAGES:
            raise InvalidPayload("update_opportunity", f"unknown stage {stage!r}")
        changes["dealstage"] = stage
    if (close_date := payload.get("close_date")) is not None:
        changes["closedate"] = f"{close_date}T00:00:00Z"  # a date is midnight UTC in HubSpot
    if payload.get("amount") is not None:
        changes["amount"] = str(number("update_opportunity", payload, "amount"))
    if (currency := payload.get("currency")) is not None:
        changes["deal_currency_code"] = str(currency)
    if payload.get("probability") is not None:
        raise InvalidPayload(
            "update_opportunity", "HubSpot derives a deal's probability from its stage"
        )
    if not changes:
        raise InvalidPayload("update_opportunity", "nothing to change")
    return changes


async def stage_id(client: HubSpotClient, deal_id: str, stage: str) -> str:
    """The id of the first stage of the deal's pipeline that is ``stage`` (canonical)."""
    deal = await client.get(DEALS, deal_id, ["pipeline"])
    if deal is None:
        raise PermanentSourceError("OBJECT_NOT_FOUND", f"no deal {deal_id}")
    pipeline = str(deal["properties"].get("pipeline") or "default")
    stages = mapping.stages_of(await client.pipelines(DEALS)).values()
    fitting = sorted(
        (s for s in stages if s.pipeline == pipeline and s.canonical == stage),
        key=lambda s: s.order,
    )
    if not fitting:
        raise InvalidPayload("update_opportunity", f"pipeline {pipeline!r} has no {stage} stage")
    return fitting[0].id
