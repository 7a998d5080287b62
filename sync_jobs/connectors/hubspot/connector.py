"""The HubSpot connector's read side: search pulls by modification stamp, archived records as
deletions, re-reads of named records (webhooks) and the live id set (reconciliation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from readmodel.types import utcnow
from sync_jobs.commands.writes import Payload, WriteResult
from sync_jobs.connectors.hubspot import mapping, writes
from sync_jobs.connectors.hubspot.client import SEARCH_LIMIT, SEARCH_WINDOW, HubSpotClient
from sync_jobs.errors import PermanentSourceError
from sync_jobs.pull import Page
from sync_jobs.rows import CanonicalRow

Record = dict[str, Any]
TABLES = {"account": "account", "contact": "contact", "opportunity": "opportunity"}
# Each pull searches from this long before its checkpoint. HubSpot's search index trails
# writes by a few seconds, so a record saved just before a later one can become searchable
# after the later one was read; the overlap reads it then. What was applied already is
# skipped by the version guard (same stamp, same content: no write).
OVERLAP_MS = 60_000


class HubSpotConnector:
    """Pulls companies, contacts and deals (parents first).

    The checkpoint is the last modification stamp applied, in epoch milliseconds. A pull
    searches ``<stamp> GTE checkpoint − OVERLAP_MS`` sorted ascending, 200 a page; a search
    pages through at most 10,000 results, so when the next page would pass that window the
    search starts again from the last stamp read (records sharing it are read twice; the
    version guard skips them). Then the records archived since then come as deletions,
    stamped with ``archivedAt``. Contacts and deals are linked to their company through the
    v4 associations API (the primary association first); one without a company is not pulled.
    """

    system = mapping.SYSTEM
    objects = tuple(mapping.OBJECT_TYPES)
    tables = TABLES

    def __init__(
        self,
        client: HubSpotClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        page_size: int = SEARCH_LIMIT,
        search_window: int = SEARCH_WINDOW,
    ) -> None:
        self._client = client
        self._clock = clock
        self._page_size = page_size
        self._window = search_window

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        hs_type = mapping.OBJECT_TYPES[object_type]
        last = int(checkpoint) if checkpoint else 0
        start = max(0, last - OVERLAP_MS)
        async for records in self._search(hs_type, start):
            last = max(last, mapping.to_ms(mapping.stamp(records[-1], hs_type)))
            yield Page(await self._rows(object_type, records), str(last))
        async for records in self._client.list_pages(hs_type, ["hs_object_id"], archived=True):
            gone = [r for r in records if _archived_ms(r) >= start]
            if gone:
                table = TABLES[object_type]
                yield Page([mapping.archived(hs_type, r, table) for r in gone], str(last))

    async def _search(self, hs_type: str, since: int) -> AsyncIterator[list[Record]]:
        """Pages of the search, restarted from the last stamp before the 10,000 window ends."""
        properties = mapping.PROPERTIES[hs_type]
        stamp = mapping.STAMPS[hs_type]
        after: str | None = None
        while True:
            page = await self._client.search(
                hs_type,
                stamp=stamp,
                since_ms=since,
                properties=properties,
                after=after,
                limit=self._page_size,
            )
            records = page.get("results", [])
            if records:
                yield records
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if after is None:
                return
            if int(after) + self._page_size > self._window:
                newest = mapping.to_ms(mapping.stamp(records[-1], hs_type))
                if newest == since:  # a whole window shares one millisecond: cannot advance
                    raise PermanentSourceError(
                        "SEARCH_WINDOW", f"over {self._window} {hs_type} share one stamp"
                    )
                since, after = newest, None

    async def _rows(self, object_type: str, records: list[Record]) -> list[CanonicalRow]:
        """Map a page; contacts and deals need their company (and deals their stages)."""
        if object_type == "account":
            return [mapping.company(r) for r in records]
        hs_type = mapping.OBJECT_TYPES[object_type]
        ids = [str(r["id"]) for r in records]
        companies = await self._client.associations(hs_type, "companies", ids)
        linked = [(r, companies[str(r["id"])][0]) for r in records if companies.get(str(r["id"]))]
        if object_type == "contact":
            return [mapping.contact(r, company) for r, company in linked]
        stages = mapping.stages_of(await self._client.pipelines("deals"))
        return [mapping.deal(r, company, stages) for r, company in linked]

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        """One row per id: the record as mapped (batch reads, 100 ids a call), or a deletion
        stamped with the time of the read for an id HubSpot no longer has live (archived).
        A contact or deal without a company is left out, as a pull leaves it."""
        hs_type = mapping.OBJECT_TYPES[object_type]
        found = await self._client.batch_read(hs_type, ids, mapping.PROPERTIES[hs_type])
        live = {str(r["id"]) for r in found}
        now = self._clock()
        table = TABLES[object_type]
        gone = [
            CanonicalRow(table, self.system, i, now, deleted_at=now) for i in ids if i not in live
        ]
        return gone + (await self._rows(object_type, found) if found else [])

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        """Every live record's id and modification stamp (the objects list, 100 a page)."""
        hs_type = mapping.OBJECT_TYPES[object_type]
        found: dict[str, datetime] = {}
        async for records in self._client.list_pages(hs_type, [mapping.STAMPS[hs_type]]):
            found.update((str(r["id"]), mapping.stamp(r, hs_type)) for r in records)
        return found

    async def apply_command(self, kind: str, payload: Payload, key: str) -> WriteResult:
        """Apply a command to HubSpot (``writes.py`` says how each kind stays idempotent)."""
        return await writes.apply_command(self._client, kind, payload, key)


def _archived_ms(record: Record) -> int:
    return mapping.to_ms(mapping.parse_time(record.get("archivedAt") or record["updatedAt"]))
