"""Store changes as Salesforce Change Data Capture events (the header fields that matter).

Real CDC delivers over the Pub/Sub API; the simulator posts the same header fields as a JSON
list to a webhook URL (``systems.webhook_sender``), which is the shape clientgraph accepts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from systems.salesforce.store import ChangeListener

_sequence = itertools.count(1)


def change_event(sobject: str, record_id: str, change_type: str, at: datetime) -> dict[str, Any]:
    """One CDC event header: a fresh ``eventId`` per change, ``commitTimestamp`` in epoch ms."""
    number = next(_sequence)
    return {
        "eventId": f"sim-{number:012d}",
        "entityName": sobject,
        "recordIds": [record_id],
        "changeType": change_type,
        "commitTimestamp": int(at.timestamp() * 1000),
        "sequenceNumber": number,
        "changeOrigin": "com/salesforce/api/rest/60.0",
    }


def publisher(add: Callable[[dict[str, Any]], None]) -> ChangeListener:
    """A store listener that hands each change, as a CDC event, to ``add`` (a sender's)."""

    def publish(sobject: str, record_id: str, change_type: str, at: datetime) -> None:
        add(change_event(sobject, record_id, change_type, at))

    return publish
