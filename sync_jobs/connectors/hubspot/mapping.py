"""HubSpot records → canonical rows. Pure functions: no I/O, tested on their own.

HubSpot sends every property as a string (or null): amounts ``"125000.10"``, stamps
``"2026-06-30T12:00:00.123Z"``, flags ``"true"``. A deal's stage is a stage *id* of its
pipeline: the default pipeline's ids are mapped by name, a custom stage by its metadata
(``isClosed``, ``probability``), so a firm's own pipeline needs no configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from readmodel.money import decimal_to_minor
from sync_jobs.rows import CanonicalRow, Ref

SYSTEM = "hubspot"
DEFAULT_CURRENCY = "USD"  # the account's company currency when a record names none

# object type → (HubSpot object type, the property that stamps each change)
OBJECT_TYPES = {"account": "companies", "contact": "contacts", "opportunity": "deals"}
STAMPS = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}
STAMPS["deals"] = "hs_lastmodifieddate"

COMPANY_PROPERTIES = (
    "name",
    "domain",
    "industry",
    "hubspot_owner_id",
    "hs_parent_company_id",
    "lifecyclestage",
    "clientgraph_currency",  # optional custom property: the client's currency
    "hs_lastmodifieddate",
)
CONTACT_PROPERTIES = ("firstname", "lastname", "email", "jobtitle", "lastmodifieddate")
DEAL_PROPERTIES = (
    "dealname",
    "amount",
    "deal_currency_code",
    "dealstage",
    "pipeline",
    "closedate",
    "hs_deal_stage_probability",
    "hs_is_closed_won",
    "hs_is_closed",
    "hubspot_owner_id",
    "service_line",  # optional custom property
    "hs_lastmodifieddate",
)
PROPERTIES = {"companies": COMPANY_PROPERTIES, "contacts": CONTACT_PROPERTIES}
PROPERTIES["deals"] = DEAL_PROPERTIES

# The default pipeline's stage ids → canonical stages (and back, for writes).
DEFAULT_STAGES = {
    "appointmentscheduled": "prospecting",
    "qualifiedtobuy": "qualification",
    "presentationscheduled": "proposal",
    "decisionmakerboughtin": "negotiation",
    "contractsent": "negotiation",
    "closedwon": "closed_won",
    "closedlost": "closed_lost",
}
LIFECYCLE_STATUS = {"customer": "active", "evangelist": "active", "other": "inactive"}


@dataclass(frozen=True)
class Stage:
    """A pipeline stage as HubSpot describes it."""

    id: str
    pipeline: str
    closed: bool
    probability: Decimal
    order: int = 0

    @property
    def canonical(self) -> str:
        return DEFAULT_STAGES.get(self.id) or canonical_stage(self.closed, self.probability)


Stages = Mapping[str, Stage]  # stage id → stage


def canonical_stage(closed: bool, probability: Decimal) -> str:
    """A custom stage placed by its metadata: closed won/lost, else by its probability."""
    if closed:
        return "closed_won" if probability >= 1 else "closed_lost"
    if probability < Decimal("0.2"):
        return "prospecting"
    if probability < Decimal("0.4"):
        return "qualification"
    return "proposal" if probability < Decimal("0.6") else "negotiation"


def stages_of(pipelines: list[dict[str, Any]]) -> dict[str, Stage]:
    """``GET /crm/v3/pipelines/deals`` results → stages by id."""
    found = {}
    for pipeline in pipelines:
        for stage in pipeline.get("stages", []):
            meta = stage.get("metadata") or {}
            found[str(stage["id"])] = Stage(
                str(stage["id"]),
                str(pipeline["id"]),
                flag(meta.get("isClosed")),
                number(meta.get("probability")) or Decimal(0),
                int(stage.get("displayOrder") or 0),
            )
    return found


def stamp(record: dict[str, Any], object_type: str) -> datetime:
    """The record's modification stamp (its stamp property, else ``updatedAt``)."""
    text = (record.get("properties") or {}).get(STAMPS[object_type]) or record["updatedAt"]
    return parse_time(text)


def parse_time(text: str) -> datetime:
    """``2026-06-30T12:00:00.123Z`` (or epoch milliseconds) → aware UTC datetime."""
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def flag(value: Any) -> bool:
    return str(value).lower() == "true"


def number(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def archived(object_type: str, record: dict[str, Any], table: str) -> CanonicalRow:
    """An archived record: a deletion stamped with ``archivedAt``."""
    when = parse_time(record.get("archivedAt") or record["updatedAt"])
    return CanonicalRow(table, SYSTEM, str(record["id"]), when, deleted_at=when)


def company(record: dict[str, Any]) -> CanonicalRow:
    p = record["properties"]
    parent = p.get("hs_parent_company_id")
    return CanonicalRow(
        "account",
        SYSTEM,
        str(record["id"]),
        stamp(record, "companies"),
        {
            "name": p.get("name") or f"Company {record['id']}",
            "parent_id": Ref("account", SYSTEM, str(parent)) if parent else None,
            "industry": p.get("industry"),
            "owner_name": p.get("hubspot_owner_id"),
            "currency": p.get("clientgraph_currency") or DEFAULT_CURRENCY,
            "billing_terms_days": 30,
            "status": LIFECYCLE_STATUS.get(p.get("lifecyclestage") or "", "prospect"),
            "domain": p.get("domain"),
        },
    )


def contact(record: dict[str, Any], company_id: str) -> CanonicalRow:
    p = record["properties"]
    return CanonicalRow(
        "contact",
        SYSTEM,
        str(record["id"]),
        stamp(record, "contacts"),
        {
            "account_id": Ref("account", SYSTEM, company_id),
            "first_name": p.get("firstname") or "",
            "last_name": p.get("lastname") or p.get("email") or f"Contact {record['id']}",
            "email": p.get("email"),
            "title": p.get("jobtitle"),
            "status": "active",
        },
    )


def deal(record: dict[str, Any], company_id: str, stages: Stages) -> CanonicalRow:
    p = record["properties"]
    stage = deal_stage(p, stages)
    probability = number(p.get("hs_deal_stage_probability"))
    if probability is None and p.get("dealstage") in stages:
        probability = stages[p["dealstage"]].probability
    return CanonicalRow(
        "opportunity",
        SYSTEM,
        str(record["id"]),
        stamp(record, "deals"),
        {
            "account_id": Ref("account", SYSTEM, company_id),
            "name": p.get("dealname") or f"Deal {record['id']}",
            "stage": stage,
            "probability": int((probability or Decimal(0)) * 100),
            "amount_minor": decimal_to_minor(number(p.get("amount")) or Decimal(0)),
            "currency": p.get("deal_currency_code") or DEFAULT_CURRENCY,
            "close_date": close_date(p.get("closedate")) or _created(record),
            "owner_name": p.get("hubspot_owner_id"),
            "service_line": p.get("service_line"),
            "is_won": stage == "closed_won",
            "is_closed": stage in ("closed_won", "closed_lost"),
            "closed_at": None,
        },
    )


def deal_stage(properties: dict[str, Any], stages: Stages) -> str:
    """The canonical stage: HubSpot's won flag first, then the stage's own description."""
    if flag(properties.get("hs_is_closed_won")):
        return "closed_won"
    stage_id = properties.get("dealstage") or ""
    if stage_id in stages:
        return stages[stage_id].canonical
    if stage_id in DEFAULT_STAGES:
        return DEFAULT_STAGES[stage_id]
    return "closed_lost" if flag(properties.get("hs_is_closed")) else "qualification"


def _created(record: dict[str, Any]) -> date:
    """A deal with no close date is dated by its creation (the read model needs a day)."""
    return parse_time(record.get("createdAt") or record["updatedAt"]).date()


def close_date(value: str | None) -> date | None:
    """``closedate`` is a datetime (midnight UTC for a date picked in the UI) → its day."""
    return None if not value else parse_time(value).date()
