"""The simulators' webhook sender: signed CDC deliveries, and its switchable faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sync_jobs.webhooks.events import parse_events
from sync_jobs.webhooks.standard import ID, verify
from systems.salesforce.cdc import publisher
from systems.webhook_sender import SenderFaults, WebhookSender
from tests.systems.test_salesforce_simulator import seeded_store

WHSEC = "whsec-sender"
AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def sender_on_store(faults: SenderFaults | None = None) -> tuple[WebhookSender, list[str]]:
    """A collecting sender subscribed to a seeded store; three accounts edited or deleted."""
    store, sender = seeded_store(accounts=4), WebhookSender(WHSEC, faults=faults or SenderFaults())
    store.listeners.append(publisher(sender.add))
    ids = sorted(store.records["Account"])[:3]
    store.touch("Account", ids[0], {"Name": "One"}, AT)
    store.touch("Account", ids[1], {"Name": "Two"}, AT)
    store.delete("Account", ids[2], AT)
    return sender, ids


def test_every_change_becomes_one_signed_cdc_delivery_clientgraph_accepts() -> None:
    sender, ids = sender_on_store()

    deliveries = sender.take()

    assert sender.take() == []  # taken once
    events = [json.loads(d.body)[0] for d in deliveries]
    assert [(e["recordIds"], e["changeType"]) for e in events] == [
        ([ids[0]], "UPDATE"),
        ([ids[1]], "UPDATE"),
        ([ids[2]], "DELETE"),
    ]
    assert len({e["eventId"] for e in events}) == 3
    assert all(e["commitTimestamp"] == int(AT.timestamp() * 1000) for e in events)
    for d in deliveries:
        delivery_id = verify(WHSEC, d.headers, d.body, now=datetime.now(UTC), tolerance_seconds=300)
        assert delivery_id == d.headers[ID]
        assert parse_events("salesforce", d.body)[0].hint.object_type == "account"


def test_the_duplicate_fault_sends_each_event_twice() -> None:
    sender, _ = sender_on_store(SenderFaults(duplicate=True))
    deliveries = sender.take()
    ids = [json.loads(d.body)[0]["eventId"] for d in deliveries]
    assert len(ids) == 6 and ids[0::2] == ids[1::2]
    webhook_ids = [d.headers[ID] for d in deliveries]  # the dedupe id: the same delivery again
    assert webhook_ids[0::2] == webhook_ids[1::2] and len(set(webhook_ids)) == 3


def test_the_out_of_order_fault_shuffles_a_burst() -> None:
    sender, _ = sender_on_store(SenderFaults(out_of_order=True, seed=3))
    numbers = [json.loads(d.body)[0]["sequenceNumber"] for d in sender.take()]
    assert len(numbers) == 3 and numbers != sorted(numbers)  # numbers rise with each change
