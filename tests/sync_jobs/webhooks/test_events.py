"""Per-source bodies → events and merged re-read hints; anything else is a MalformedBody."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync_jobs.webhooks.events import (
    MAX_IDS_PER_HINT,
    Event,
    Hint,
    MalformedBody,
    merge_hints,
    parse_events,
)


def cdc(event_id: str, entity: str, *ids: str, change: str = "UPDATE") -> dict[str, Any]:
    return {
        "eventId": event_id,
        "entityName": entity,
        "recordIds": list(ids),
        "changeType": change,
        "commitTimestamp": 1782820800000,
        "changeOrigin": "com/salesforce/api/rest/60.0",
    }


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_salesforce_cdc_events_become_hints_per_object_type() -> None:
    events = parse_events(
        "salesforce",
        body(
            [
                cdc("e1", "Account", "001A", "001B"),
                cdc("e2", "Opportunity", "006A", change="DELETE"),
                cdc("e3", "Account", "001B", "001C", change="GAP_UPDATE"),
            ]
        ),
    )
    assert [e.event_id for e in events] == ["e1", "e2", "e3"]
    assert merge_hints(events) == [
        Hint("account", ("001A", "001B", "001C")),
        Hint("opportunity", ("006A",)),
    ]


def test_a_gap_overflow_without_ids_is_accepted_but_asks_for_nothing() -> None:
    events = parse_events("salesforce", body([cdc("e1", "Contact", change="GAP_OVERFLOW")]))
    assert merge_hints(events) == []


def test_netsuite_user_events_become_hints() -> None:
    document = {
        "events": [
            {"eventId": "n1", "recordType": "customer", "recordId": 812, "type": "edit"},
            {"eventId": "n2", "recordType": "invoice", "recordId": "9001", "type": "delete"},
            {"eventId": "n3", "recordType": "job", "recordId": "77", "type": "create"},
            {
                "eventId": "n4",
                "recordType": "customrecord_cg_engagement",
                "recordId": "5",
                "type": "edit",
            },
        ]
    }
    events = parse_events("netsuite", body(document))
    assert events == [
        Event("n1", Hint("customer", ("812",))),
        Event("n2", Hint("invoice", ("9001",))),
        Event("n3", Hint("job", ("77",))),  # the connector's object names, not NetSuite's
        Event("n4", Hint("engagement", ("5",))),
    ]


def test_big_hints_are_split_into_bounded_jobs() -> None:
    ids = [f"001{i:05d}" for i in range(MAX_IDS_PER_HINT + 1)]
    hints = merge_hints(parse_events("salesforce", body([cdc("e1", "Account", *ids)])))
    assert [len(h.ids) for h in hints] == [MAX_IDS_PER_HINT, 1]


@pytest.mark.parametrize(
    ("source", "raw"),
    [
        ("salesforce", b"not json"),
        ("salesforce", b"\xff\xfe"),
        ("salesforce", body({"eventId": "e1"})),  # not a list
        ("salesforce", body([])),  # nothing in it
        ("salesforce", body([cdc("e1", "Lead", "00Q1")])),  # an object we do not sync
        ("salesforce", body([cdc("e1", "Account")])),  # no ids
        ("salesforce", body([cdc("e1", "Account", "../../etc")])),  # not an id
        ("salesforce", body([cdc("", "Account", "001A")])),
        ("salesforce", body([{**cdc("e1", "Account", "001A"), "recordIds": [True]}])),
        ("salesforce", body([cdc("e1", "Account", *[f"001{i}" for i in range(501)])])),
        ("netsuite", body([{"eventId": "n1"}])),
        ("netsuite", body({"events": [{"eventId": "n1", "recordType": "customer"}]})),
        ("netsuite", body({"events": [{"eventId": "n1", "recordType": "x", "recordId": 1}]})),
    ],
)
def test_malformed_bodies_are_refused(source: str, raw: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_events(source, raw)


def test_the_user_event_script_s_single_record_body_takes_the_webhook_id() -> None:
    body = json.dumps({"recordType": "job", "id": "77", "eventType": "edit"}).encode()

    [event] = parse_events("netsuite", body, delivery_id="msg_ue_1")

    assert (event.event_id, event.hint) == ("msg_ue_1", Hint("job", ("77",)))
    with pytest.raises(MalformedBody):  # signed the old way, an event needs its own eventId
        parse_events("netsuite", body)
    with pytest.raises(MalformedBody):
        no_type = json.dumps({"recordType": "job", "id": "77"}).encode()
        parse_events("netsuite", no_type, delivery_id="m")
