"""The Salesforce connector's read side: incremental pulls by ``SystemModstamp``, re-reads of
named records (webhook hints) and the live id set (reconciliation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from readmodel.types import utcnow
from sync_jobs.commands.writes import Payload, WriteResult
from sync_jobs.connectors.salesforce import mapping, writes
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
    tables = {name: name for name in OBJECTS}  # each object lands in its namesake table

    def __init__(self, client: SalesforceClient, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._client = client
        self._clock = clock

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

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        """One row per id: the record as mapped, or a deletion stamped with the time of the read.

        Deleted records answer 404 over REST, and the time of the read is the latest moment we
        know the record was gone: the version guard still lets a newer edit (an undelete) win.
        One GET per id keeps the request shape simple; hints are chunked small upstream.
        """
        sobject, fields, to_row = OBJECTS[object_type]
        rows = []
        for record_id in ids:
            record = await self._client.retrieve(sobject, record_id, fields)
            if record is None:
                now = self._clock()
                rows.append(CanonicalRow(object_type, self.system, record_id, now, deleted_at=now))
            else:
                rows.append(to_row(record))
        return rows

    async def apply_command(self, kind: str, payload: Payload, key: str) -> WriteResult:
        """Apply a command to Salesforce (``writes.py`` says how each kind stays idempotent)."""
        return await writes.apply_command(self._client, kind, payload, key)

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        """Every live record's id and ``SystemModstamp`` (``query`` leaves deleted rows out)."""
        sobject = OBJECTS[object_type][0]
        found: dict[str, datetime] = {}
        async for records in self._client.query(f"SELECT Id, SystemModstamp FROM {sobject}"):
            found.update((r["Id"], mapping.modstamp(r)) for r in records)
        return found
