"""Per-source webhook bodies → events, each naming the records to re-read.

Only ids are taken from a body, never field values: the re-read brings the data, so a
forged-but-signed or reordered event can at worst cause a harmless extra read.

- Salesforce: a JSON list of Change-Data-Capture-shaped events ``{eventId, entityName,
  recordIds, changeType, commitTimestamp, changeOrigin}``. ``GAP_*`` change types mean
  "something changed, re-read these ids", which is what every event means here. Echoes of our
  own writes (``changeOrigin``) are re-read too: harmless, and simpler than filtering.
- NetSuite: ``{recordType, id, eventType}``, one record per delivery, as posted by our
  ``afterSubmit`` user-event script (``systems/netsuite/suitescript/clientgraph_ue.js``), or
  ``{events: [{eventId, recordType, recordId, type}]}`` (several; the earlier relay shape).
- HubSpot: its native webhooks, a JSON list of ``{eventId, subscriptionType
  (<object>.<change>), objectId, occurredAt, attemptNumber, …}``; ``*.merge`` also names the
  merged ids (``mergedObjectIds``: re-read, they are gone), ``*.associationChange`` names
  ``fromObjectId``.

A Standard Webhooks delivery is deduplicated by its ``webhook-id``, so its events need no
``eventId`` of their own; a delivery signed the deprecated way needs one on every event.
- Tryton has no webhooks (it is polled).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sync_jobs.connectors.netsuite.connector import OBJECTS as NETSUITE_OBJECTS
from sync_jobs.connectors.salesforce.connector import OBJECTS as SALESFORCE_OBJECTS

MAX_EVENTS = 1000  # per delivery
MAX_IDS_PER_EVENT = 500
MAX_IDS_PER_HINT = 100  # one refresh job re-reads at most this many records
EVENT_ID = re.compile(r"[\w.:\-]{1,128}", re.ASCII)
RECORD_ID = re.compile(r"[\w.:\-]{1,64}", re.ASCII)

SALESFORCE_ENTITIES = {sobject: name for name, (sobject, _, _) in SALESFORCE_OBJECTS.items()}
# HubSpot subscription type prefix (``deal.propertyChange``) → the connector's object
HUBSPOT_OBJECTS = {"company": "account", "contact": "contact", "deal": "opportunity"}
# NetSuite record type (``customrecord_cg_engagement``, ``job`` …) → the connector's object
NETSUITE_RECORD_TYPES = {record: name for name, (record, _, _) in NETSUITE_OBJECTS.items()}


class MalformedBody(ValueError):
    """The body is not this source's event format (HTTP 400); nothing is recorded."""


@dataclass(frozen=True)
class Hint:
    """Re-read these records of one object type."""

    object_type: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    """One source event: its id (for dedupe) and what it asks us to re-read."""

    event_id: str
    hint: Hint


def parse_events(source: str, body: bytes, *, delivery_id: str | None = None) -> list[Event]:
    """The events of one delivery, in body order; an event without an ``eventId`` takes
    ``delivery_id`` (the ``webhook-id``) when there is one.

    Raises:
        MalformedBody: not JSON, wrong shape, an unknown object type, an id that is not a
            plain token, or more than ``MAX_EVENTS`` events / ``MAX_IDS_PER_EVENT`` ids.
        KeyError: ``source`` sends no webhooks.
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedBody(f"body is not JSON: {error}") from None
    if delivery_id is not None and not EVENT_ID.fullmatch(delivery_id):
        raise MalformedBody("webhook-id must be 1–128 letters, digits or . : _ -")
    events = PARSERS[source](document, delivery_id)
    if not events:
        raise MalformedBody("the delivery holds no events")
    if len(events) > MAX_EVENTS:
        raise MalformedBody(f"more than {MAX_EVENTS} events in one delivery")
    return events


def merge_hints(events: Iterable[Event]) -> list[Hint]:
    """One hint per object type (ids deduplicated, first-seen order), split into chunks of
    ``MAX_IDS_PER_HINT`` so no single refresh job grows with the size of a delivery."""
    ids: dict[str, dict[str, None]] = {}
    for event in events:
        ids.setdefault(event.hint.object_type, {}).update(dict.fromkeys(event.hint.ids))
    return [
        Hint(object_type, chunk)
        for object_type, found in ids.items()
        for chunk in _chunks(tuple(found), MAX_IDS_PER_HINT)
    ]


def _salesforce(document: Any, delivery_id: str | None) -> list[Event]:
    if not isinstance(document, list):
        raise MalformedBody("a Salesforce delivery is a JSON list of change events")
    events = []
    for item in document:
        entity = _field(item, "entityName", str)
        if entity not in SALESFORCE_ENTITIES:
            raise MalformedBody(f"unknown entityName {entity!r}")
        overflow = _field(item, "changeType", str).startswith("GAP_")
        ids = _field(item, "recordIds", list)
        hint = Hint(SALESFORCE_ENTITIES[entity], _ids(ids, allow_none=overflow))
        events.append(Event(_event_id(item, "eventId", delivery_id), hint))
    return events


def _netsuite(document: Any, delivery_id: str | None) -> list[Event]:
    if isinstance(document, dict) and "events" not in document:  # the user-event script's
        names = ("id", "eventType")
        return [_netsuite_event(document, names, delivery_id)]
    items = _field(document, "events", list)
    return [_netsuite_event(item, ("recordId", "type"), delivery_id) for item in items]


def _hubspot(document: Any, delivery_id: str | None) -> list[Event]:
    if not isinstance(document, list):
        raise MalformedBody("a HubSpot delivery is a JSON list of events")
    events = []
    for item in document:
        prefix = _field(item, "subscriptionType", str).partition(".")[0]
        if prefix not in HUBSPOT_OBJECTS:
            raise MalformedBody(f"unknown subscriptionType {item['subscriptionType']!r}")
        named = item.get("objectId", item.get("fromObjectId"))
        ids = [named, *(item.get("mergedObjectIds") or [])]
        if isinstance(item.get("eventId"), int) and not isinstance(item["eventId"], bool):
            item = {**item, "eventId": str(item["eventId"])}  # HubSpot's event ids are numbers
        hint = Hint(HUBSPOT_OBJECTS[prefix], _ids(ids))
        events.append(Event(_event_id(item, "eventId", delivery_id), hint))
    return events


def _netsuite_event(item: Any, names: tuple[str, str], delivery_id: str | None) -> Event:
    record_type = _field(item, "recordType", str)
    if record_type not in NETSUITE_RECORD_TYPES:
        raise MalformedBody(f"unknown recordType {record_type!r}")
    id_name, type_name = names
    _field(item, type_name, str)
    hint = Hint(NETSUITE_RECORD_TYPES[record_type], _ids([_field(item, id_name, (str, int))]))
    return Event(_event_id(item, "eventId", delivery_id), hint)


PARSERS: dict[str, Callable[[Any, str | None], list[Event]]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
    "netsuite": _netsuite,
}


def _field(item: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(item, dict) or not isinstance(item.get(name), kind):
        raise MalformedBody(f"every event needs {name!r}")
    if isinstance(item[name], bool):  # bool is an int in Python, never an id
        raise MalformedBody(f"{name!r} has the wrong type")
    return item[name]


def _event_id(item: Any, name: str, fallback: str | None = None) -> str:
    if fallback is not None and isinstance(item, dict) and name not in item:
        return fallback
    value = _field(item, name, str)
    if not EVENT_ID.fullmatch(value):
        raise MalformedBody(f"{name} must be 1–128 letters, digits or . : _ -")
    return str(value)


def _ids(values: list[Any], *, allow_none: bool = False) -> tuple[str, ...]:
    """Ids as strings. ``GAP_OVERFLOW`` may name none: the scheduled pull catches up."""
    if (not values and not allow_none) or len(values) > MAX_IDS_PER_EVENT:
        raise MalformedBody(f"an event names 1–{MAX_IDS_PER_EVENT} record ids")
    ids = tuple(str(v) for v in values if isinstance(v, str | int) and not isinstance(v, bool))
    if len(ids) != len(values) or not all(RECORD_ID.fullmatch(i) for i in ids):
        raise MalformedBody("record ids must be 1–64 letters, digits or . : _ -")
    return ids


def _chunks(ids: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
