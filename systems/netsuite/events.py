"""Store changes as the events a NetSuite ``afterSubmit`` user-event script would post.

NetSuite has no built-in webhooks; firms deploy a SuiteScript that posts
``{"events": [{eventId, recordType, recordId, type}]}`` after each save. The simulator
does the same through ``systems.webhook_sender``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

_sequence = itertools.count(1)
TYPES = {"create": "create", "update": "edit", "delete": "delete"}  # SuiteScript's names


def change_event(record_type: str, record_id: str, change: str, at: datetime) -> dict[str, Any]:
    """One user event: a fresh ``eventId`` per change."""
    return {
        "eventId": f"ns-sim-{next(_sequence):012d}",
        "recordType": record_type,
        "recordId": record_id,
        "type": TYPES[change],
        "occurredAt": at.isoformat(),
    }


def encode(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The body one delivery carries."""
    return {"events": events}


def publisher(add: Callable[[dict[str, Any]], None]) -> Callable[[str, str, str, datetime], None]:
    """A store listener that hands each change, as a user event, to ``add`` (a sender's)."""

    def publish(record_type: str, record_id: str, change: str, at: datetime) -> None:
        add(change_event(record_type, record_id, change, at))

    return publish
