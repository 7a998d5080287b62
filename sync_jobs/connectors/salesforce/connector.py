"""The Salesforce connector's read side: incremental pulls by ``SystemModstamp``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from sync_jobs.connectors.salesforce import mapping
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.pull import Page
from sync_jobs.rows import CanonicalRow

OBJECTS: dict[str, tuple[str, tuple[str, ...], Callable[[dict[str, Any]], CanonicalRow]]] = {
    "account": ("Account", mapping.ACCOUNT_FIELDS, mapping.account),
    "contact": ("Contact", mapping.CONTACT_FIELDS, mapping.contact),
    "opportunity": ("Opportunity", mapping.OPPORTUNITY_FIELDS, mapping.opportunity),
}
EPOCH = "1970-01-01T00:00:00Z"


class SalesforceConnector:
    """Pulls Account, Contact and Opportunity (in that order: parents first).

    The checkpoint is the last ``SystemModstamp`` applied. The next pull asks for ``>=`` it:
    records sharing that millisecond are read again rather than missed, and the version
    guard makes the repeat harmless. ``queryAll`` brings deletions (``IsDeleted``).
    """

    system = mapping.SYSTEM
    objects = tuple(OBJECTS)

    def __init__(self, client: SalesforceClient) -> None:
        self._client = client

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        sobject, fields, to_row = OBJECTS[object_type]
        soql = (
            f"SELECT {', '.join(fields)} FROM {sobject} "
            f"WHERE SystemModstamp >= {checkpoint or EPOCH} ORDER BY SystemModstamp, Id"
        )
        async for records in self._client.query(soql, include_deleted=True):
            if records:
                last = mapping.modstamp(records[-1]).strftime("%Y-%m-%dT%H:%M:%SZ")
                yield Page([to_row(r) for r in records], last)
