"""The simulator's records as HubSpot holds them: objects of properties (all strings).

Companies, contacts and deals by id, each ``{id, properties, createdAt, updatedAt,
archived[, archivedAt]}``; contacts and deals are associated with one company. Every change
moves the object's stamp property (``hs_lastmodifieddate``; ``lastmodifieddate`` for
contacts) and ``updatedAt``, and is heard by ``listeners`` (a webhook sender subscribes).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Record = dict[str, Any]
# Hears every change: (object type, id, "creation" | "propertyChange" | "deletion", when).
ChangeListener = Callable[[str, str, str, datetime], None]

STAMPS = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}
STAMPS["deals"] = "hs_lastmodifieddate"
SINGULAR = {"companies": "company", "contacts": "contact", "deals": "deal"}
# The default deals pipeline: (stage id, label, closed, probability), in display order.
PIPELINE = (
    ("appointmentscheduled", "Appointment scheduled", False, "0.2"),
    ("qualifiedtobuy", "Qualified to buy", False, "0.4"),
    ("presentationscheduled", "Presentation scheduled", False, "0.6"),
    ("decisionmakerboughtin", "Decision maker bought-in", False, "0.8"),
    ("contractsent", "Contract sent", False, "0.9"),
    ("closedwon", "Closed won", True, "1.0"),
    ("closedlost", "Closed lost", True, "0.0"),
)
STAGE_OF = {  # the seed's canonical stages → the default pipeline's ids
    "prospecting": "appointmentscheduled",
    "qualification": "qualifiedtobuy",
    "proposal": "presentationscheduled",
    "negotiation": "decisionmakerboughtin",
    "closed_won": "closedwon",
    "closed_lost": "closedlost",
}
LIFECYCLE = {"prospect": "opportunity", "active": "customer", "inactive": "other"}
DERIVED = ("hs_is_closed_won", "hs_is_closed", "hs_deal_stage_probability")  # read-only


def hs_time(value: datetime) -> str:
    """HubSpot's timestamps: ``2026-06-30T12:00:00.123Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stage_properties(stage_id: str) -> dict[str, str]:
    """What HubSpot derives from a deal's stage (read-only properties)."""
    for sid, _, closed, probability in PIPELINE:
        if sid == stage_id:
            won = closed and probability == "1.0"
            return {
                "hs_is_closed": str(closed).lower(),
                "hs_is_closed_won": str(won).lower(),
                "hs_deal_stage_probability": probability,
            }
    raise KeyError(stage_id)


@dataclass
class Store:
    """Objects by type and id, associations to companies, and the change listeners."""

    objects: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {"companies": {}, "contacts": {}, "deals": {}}
    )
    company_of: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"contacts": {}, "deals": {}}
    )
    listeners: list[ChangeListener] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_001))

    def put(self, object_type: str, record_id: str, properties: Record, at: datetime) -> Record:
        """Seed a record silently (no listener hears it)."""
        stamp = hs_time(at)
        properties = {**properties, STAMPS[object_type]: stamp, "hs_object_id": record_id}
        properties.setdefault("createdate", stamp)
        if object_type == "deals":
            properties.update(stage_properties(properties["dealstage"]))
        record: Record = {"id": record_id, "properties": properties, "createdAt": stamp}
        record |= {"updatedAt": stamp, "archived": False}
        self.objects[object_type][record_id] = record
        return record

    def create(self, object_type: str, properties: Record, at: datetime) -> Record:
        record = self.put(object_type, str(next(self._ids)), properties, at)
        self._tell(object_type, record["id"], "creation", at)
        return record

    def live(self, object_type: str) -> list[Record]:
        return [r for r in self.objects[object_type].values() if not r["archived"]]

    def archived(self, object_type: str) -> list[Record]:
        return [r for r in self.objects[object_type].values() if r["archived"]]

    def get(self, object_type: str, record_id: str) -> Record | None:
        record = self.objects.get(object_type, {}).get(record_id)
        return None if record is None or record["archived"] else record

    def update(self, object_type: str, record_id: str, changes: Record, at: datetime) -> Record:
        """A user's (or an API) edit at ``at``: the stamp moves, derived properties follow."""
        record = self.objects[object_type][record_id]
        record["properties"].update(changes)
        if object_type == "deals" and "dealstage" in changes:
            record["properties"].update(stage_properties(changes["dealstage"]))
        self._stamp(object_type, record, at)
        self._tell(object_type, record_id, "propertyChange", at)
        return record

    def archive(self, object_type: str, record_id: str, at: datetime) -> None:
        record = self.objects[object_type][record_id]
        record["archived"] = True
        record["archivedAt"] = hs_time(at)
        self._stamp(object_type, record, at)
        self._tell(object_type, record_id, "deletion", at)

    def _stamp(self, object_type: str, record: Record, at: datetime) -> None:
        record["properties"][STAMPS[object_type]] = hs_time(at)
        record["updatedAt"] = hs_time(at)

    def _tell(self, object_type: str, record_id: str, change: str, at: datetime) -> None:
        for listener in self.listeners:
            listener(object_type, record_id, change, at)


def with_hubspot_ids(rows: dict[str, list[Record]]) -> dict[str, list[Record]]:
    """The firm's rows with HubSpot-style numeric ids for its CRM records (companies from
    1001, contacts from 2000001, deals from 5000001), so an ERP built from the same rows
    carries HubSpot ids as its customers' external ids and its projects' deal ids."""
    starts = {"account": 1001, "contact": 2_000_001, "opportunity": 5_000_001}
    renamed = dict(rows)
    for table, start in starts.items():
        renamed[table] = [{**r, "source_id": str(start + i)} for i, r in enumerate(rows[table])]
    return renamed


def from_seed(rows: dict[str, list[Record]]) -> Store:
    """A store holding the CRM side of a generated firm (``readmodel.seed`` rows), under the
    rows' own source ids (``with_hubspot_ids`` first for HubSpot-style ids)."""
    store = Store()
    ids = {a["id"]: a["source_id"] for a in rows.get("account", [])}
    for a in rows.get("account", []):
        store.put("companies", a["source_id"], _company(a, ids), a["source_version"])
    for c in rows.get("contact", []):
        store.put("contacts", c["source_id"], _contact(c), c["source_version"])
        store.company_of["contacts"][c["source_id"]] = ids[c["account_id"]]
    for o in rows.get("opportunity", []):
        store.put("deals", o["source_id"], _deal(o), o["source_version"])
        store.company_of["deals"][o["source_id"]] = ids[o["account_id"]]
    return store


def _company(a: Record, ids: dict[Any, str]) -> Record:
    return {
        "name": a["name"],
        "domain": a["domain"],
        "industry": a["industry"],
        "hubspot_owner_id": a["owner_name"],
        "hs_parent_company_id": ids.get(a["parent_id"]),
        "lifecyclestage": LIFECYCLE[a["status"]],
        "clientgraph_currency": a["currency"],
    }


def _contact(c: Record) -> Record:
    return {
        "firstname": c["first_name"],
        "lastname": c["last_name"],
        "email": c["email"],
        "jobtitle": c["title"],
    }


def _deal(o: Record) -> Record:
    return {
        "dealname": o["name"],
        "amount": str(Decimal(o["amount_minor"]) / 100),
        "deal_currency_code": o["currency"],
        "dealstage": STAGE_OF[o["stage"]],
        "pipeline": "default",
        "closedate": f"{o['close_date'].isoformat()}T00:00:00.000Z",
        "hubspot_owner_id": o["owner_name"],
        "service_line": o["service_line"],
        "clientgraph_project_id": None,
        "clientgraph_handoff_status": None,
    }
