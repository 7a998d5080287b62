"""The NetSuite connector's read side: SuiteQL pulls by ``lastmodifieddate``, record fetches
and id sets for reconciliation (NetSuite hard-deletes, so deletions are found by comparing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from readmodel.types import utcnow
from sync_jobs.commands.writes import Payload, WriteResult
from sync_jobs.connectors.netsuite import mapping, writes
from sync_jobs.connectors.netsuite.client import MAX_LIMIT, NetSuiteClient
from sync_jobs.pull import Page
from sync_jobs.rows import CanonicalRow, Ref

# object type → (NetSuite record type, read-model table, mapper); parents first.
OBJECTS: dict[str, tuple[str, str, mapping.Mapper]] = {
    "customer": ("customer", "account", mapping.customer),
    "employee": ("employee", "person", mapping.employee),
    "engagement": ("customrecord_cg_engagement", "engagement", mapping.engagement),
    "ratecard": ("customrecord_cg_ratecard", "rate_card", mapping.rate_card),
    "ratecardline": ("customrecord_cg_ratecardline", "rate_card_line", mapping.rate_card_line),
    "job": ("job", "project", mapping.project),
    "projecttask": ("projecttask", "milestone", mapping.milestone),
    "resourceallocation": ("resourceallocation", "assignment", mapping.assignment),
    "invoice": ("invoice", "invoice", mapping.invoice),
    "timebill": ("timebill", "time_entry", mapping.time_entry),
    "changeorder": ("customrecord_cg_changeorder", "change_order", mapping.change_order),
    "customerpayment": ("customerpayment", "payment", mapping.payment),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Each pull starts this long before its checkpoint. A NetSuite record is stamped when its
# transaction starts, so a long save (a big invoice, a CSV import) can become visible after
# changes with later stamps were read; re-reading a window catches it. What was already
# applied is re-read and skipped by the version guard (same stamp, same hash: no write).
OVERLAP = timedelta(minutes=15)
Key = tuple[datetime, int]


class NetSuiteConnector:
    """Pulls customers, employees, engagements … payments (parents first) from SuiteQL.

    The checkpoint is the last ``lastmodifieddate`` applied (ISO, UTC, milliseconds). Pages
    are read by key, not by growing offsets: each next page asks again from the last stamp
    read and drops what it already saw (by stamp, then id). An offset would skip a record
    whenever an edit during the pull moved an earlier one to the end; a key cannot. Offsets
    are used only within one stamp shared by more than a page of records.
    """

    system = mapping.SYSTEM
    objects = tuple(OBJECTS)
    tables = {name: table for name, (_, table, _) in OBJECTS.items()}

    def __init__(
        self,
        client: NetSuiteClient,
        *,
        page_size: int = MAX_LIMIT,
        clock: Callable[[], datetime] = utcnow,
        crm: str = mapping.CRM,
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._clock = clock
        self._crm = crm  # the system whose deal ids engagements and jobs carry

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        """Pages of changes since ``checkpoint`` minus ``OVERLAP`` (``None``: everything)."""
        record_type, _, to_row = OBJECTS[object_type]
        high = None if checkpoint is None else _parse(checkpoint)
        since = EPOCH if high is None else high - OVERLAP
        last: Key | None = None
        offset = 0
        while True:
            body = await self._client.suiteql(
                _changes(record_type, since), limit=self._page_size, offset=offset
            )
            fresh = [r for r in body["items"] if last is None or _key(r) > last]
            if fresh:
                last, offset = _key(fresh[-1]), 0
                since, high = last[0], max(high or last[0], last[0])
                yield Page([self._in_crm(to_row(r)) for r in fresh], _format(high))
            else:  # a page of one shared stamp already seen: step over it
                offset += len(body["items"])
            if not body["hasMore"]:
                return

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        """Re-read records through the record API; an id NetSuite lacks is a deletion now."""
        record_type, table, to_row = OBJECTS[object_type]
        rows = []
        for record_id in ids:
            record = await self._client.get_record(record_type, record_id)
            if record is None:
                rows.append(mapping.deletion(table, record_id, self._clock()))
            else:
                rows.append(self._in_crm(to_row(mapping.flatten(record))))
        return rows

    def _in_crm(self, row: CanonicalRow) -> CanonicalRow:
        """A row naming a deal names it in the firm's CRM (HubSpot instead of Salesforce)."""
        deal = row.values.get("opportunity_id")
        if self._crm == mapping.CRM or not isinstance(deal, Ref):
            return row
        values = {**row.values, "opportunity_id": Ref(deal.table, self._crm, deal.source_id)}
        return replace(row, values=values)

    async def apply_command(self, kind: str, payload: Payload, key: str) -> WriteResult:
        """Apply a command to NetSuite (``writes.py`` says how each kind stays idempotent)."""
        return await writes.apply_command(self._client, kind, payload, key, self._clock())

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        """Every live record's id and stamp (SuiteQL by id, paged; at most 100,000 rows,
        SuiteQL's limit for one query)."""
        record_type = OBJECTS[object_type][0]
        query = f"SELECT id, lastmodifieddate FROM {record_type} ORDER BY id"
        found: dict[str, datetime] = {}
        async for items in self._client.suiteql_all(query):
            found.update({str(r["id"]): mapping.stamp(r) for r in items})
        return found


def _changes(record_type: str, since: datetime) -> str:
    return (
        f"SELECT * FROM {record_type} WHERE lastmodifieddate >= '{_format(since)}' "
        "ORDER BY lastmodifieddate, id"
    )


def _key(row: dict[str, Any]) -> Key:
    return mapping.stamp(row), int(row["id"])


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(checkpoint: str) -> datetime:
    return datetime.fromisoformat(checkpoint.replace("Z", "+00:00")).astimezone(UTC)
