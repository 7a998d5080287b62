"""Store changes as HubSpot's webhook events, signed as HubSpot signs them (v3).

HubSpot posts a JSON list of events to the app's target URL, each ``{eventId,
subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, objectId,
changeSource[, propertyName, propertyValue]}``, with ``X-HubSpot-Signature-v3`` and
``X-HubSpot-Request-Timestamp``. The simulator does the same through
``systems.webhook_sender`` (``signer``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sync_jobs.webhooks.hubspot_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_v3
from systems.hubspot.store import SINGULAR, ChangeListener

PORTAL_ID = 62515
APP_ID = 1160452
_sequence = itertools.count(1)


def change_event(object_type: str, record_id: str, change: str, at: datetime) -> dict[str, Any]:
    """One event, e.g. ``deal.propertyChange`` for deal ``record_id``."""
    number = next(_sequence)
    return {
        "eventId": 1_000_000 + number,
        "subscriptionId": 2_000 + list(SINGULAR).index(object_type),
        "portalId": PORTAL_ID,
        "appId": APP_ID,
        "occurredAt": int(at.timestamp() * 1000),
        "subscriptionType": f"{SINGULAR[object_type]}.{change}",
        "attemptNumber": 0,
        "objectId": int(record_id),
        "changeSource": "CRM",
    }


def publisher(add: Callable[[dict[str, Any]], None]) -> ChangeListener:
    """A store listener that hands each change, as a HubSpot event, to ``add``."""

    def publish(object_type: str, record_id: str, change: str, at: datetime) -> None:
        add(change_event(object_type, record_id, change, at))

    return publish


def signer(secret: str, url: str) -> Callable[[bytes], dict[str, str]]:
    """Headers HubSpot puts on a POST of ``body`` to ``url``: signature v3 and timestamp."""

    def headers(body: bytes) -> dict[str, str]:
        stamp = int(time.time() * 1000)
        signature = sign_v3(secret, "POST", url, body, stamp)
        return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: str(stamp)}

    return headers
