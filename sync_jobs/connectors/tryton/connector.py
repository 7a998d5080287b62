"""The Tryton connector's read side: incremental pulls by ``last_modified_at``.

Tryton has no webhooks and deletes for real, so changes are polled by modification stamp
and deletions are found by comparing id sets (``live_ids``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from readmodel.types import utcnow
from sync_jobs.commands.writes import Payload, WriteResult
from sync_jobs.connectors.tryton import mapping, projects, writes
from sync_jobs.connectors.tryton.client import Domain, TrytonClient
from sync_jobs.connectors.tryton.cursor import Cursor
from sync_jobs.connectors.tryton.related import VOLATILE, Related, related_models
from sync_jobs.pull import Page
from sync_jobs.rows import CanonicalRow

# A record is stamped when its transaction starts but becomes visible when it commits: a
# transaction that started before our last stamp and committed after our read would be
# missed. Re-reading the last few seconds covers that; the version guard drops the repeats.
OVERLAP = timedelta(seconds=5)
PAGE_SIZE = 500
ORDER = [["last_modified_at", "ASC"], ["id", "ASC"]]
# Our opportunities and projects belong to an account; Tryton's leads and internal projects
# may have no party. Those are not selected (and vanish from ``live_ids`` if the party goes).
WITH_PARTY = ["party", "!=", None]
ALL = {"active_test": False}  # inactive parties and employees are live records, not deletions


@dataclass(frozen=True)
class Spec:
    """Where an object type lives in Tryton, and the domain that selects it there."""

    model: str
    table: str
    fields: tuple[str, ...]
    domain: Domain = field(default_factory=list)


OBJECTS: dict[str, Spec] = {  # parents first
    "account": Spec("party.party", "account", mapping.PARTY_FIELDS),
    "person": Spec("company.employee", "person", mapping.EMPLOYEE_FIELDS),
    "opportunity": Spec(
        "sale.opportunity", "opportunity", mapping.OPPORTUNITY_FIELDS, [WITH_PARTY]
    ),
    "project": Spec(
        "project.work", "project", mapping.PROJECT_FIELDS, [["type", "=", "project"], WITH_PARTY]
    ),
    "invoice": Spec("account.invoice", "invoice", mapping.INVOICE_FIELDS, [["type", "=", "out"]]),
    "time_entry": Spec("timesheet.line", "time_entry", mapping.TIMESHEET_FIELDS),
    "payment": Spec(
        "account.move.line",
        "payment",
        mapping.PAYMENT_FIELDS,
        [["invoice_payment", "!=", None], ["invoice_payment.type", "=", "out"]],
    ),
}
SIMPLE: dict[str, Callable[[dict[str, Any]], CanonicalRow]] = {
    "account": mapping.account,
    "person": mapping.person,
    "opportunity": mapping.opportunity,
    "project": mapping.project,
    "payment": mapping.payment,
}


class TrytonConnector:
    """Pulls parties, employees, opportunities, projects, invoices, timesheet lines and
    payments (the move lines an invoice lists as paying it).

    Pages are read by keyset (after the last stamp and id seen) rather than by offset: a
    record edited mid-pull moves to the end of the order, and with offsets the record behind
    it would slide into the page already read and be missed for good. The checkpoint is the
    last stamp applied; the next pull starts ``OVERLAP`` before it.
    """

    system = mapping.SYSTEM
    objects = tuple(OBJECTS)
    tables = {name: spec.table for name, spec in OBJECTS.items()}

    def __init__(
        self,
        client: TrytonClient,
        *,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._clock = clock

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        """The object's own changes since the checkpoint, then the records whose values
        come from related records changed since then (``related.py``)."""
        cursor = Cursor.parse(checkpoint)
        own = cursor.own
        async for rows, stamp in self._own_changes(object_type, cursor.own):
            own = stamp
            yield Page(rows, Cursor(own, cursor.related).encode())
        if cursor.own is None:  # a first read took every record as it is now
            return
        since = cursor.related or cursor.own
        newest = since
        for related in related_models(object_type):
            async for rows, stamp in self._dependents(object_type, related, since - OVERLAP):
                newest = max(newest, stamp)
                yield Page(rows, Cursor(own, cursor.related).encode())
        if newest > since:  # the related watermark moves once every related model is read
            yield Page([], Cursor(own, newest).encode())

    async def _own_changes(
        self, object_type: str, since: datetime | None
    ) -> AsyncIterator[tuple[list[CanonicalRow], datetime]]:
        spec = OBJECTS[object_type]
        scope = await self._scope(object_type)
        start = None if since is None else since - OVERLAP
        async for records in self._changes(spec.model, scope, spec.fields, start):
            yield await self._rows(object_type, records), mapping.version(records[-1])

    async def _dependents(
        self, object_type: str, related: Related, since: datetime
    ) -> AsyncIterator[tuple[list[CanonicalRow], datetime]]:
        """Re-read the records that depend on each page of ``related``'s changes."""
        spec = OBJECTS[object_type]
        scope = await self._scope(object_type)
        fields = ("last_modified_at",)
        async for records in self._changes(related.model, related.domain, fields, since):
            changed = [int(r["id"]) for r in records]
            ids = await related.find(self._client, spec.model, scope, changed)
            yield await self._read(object_type, ids), mapping.version(records[-1])

    async def _changes(
        self, model: str, scope: Domain, fields: Sequence[str], since: datetime | None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of ``model`` records changed since ``since``, by keyset (stamp, id)."""
        after: tuple[datetime, int] | None = None
        while True:
            domain = [*scope, *_changed(since, after)]
            records = await self._client.search_read(
                model, domain, fields, limit=self._page_size, order=ORDER, context=ALL
            )
            if not records:
                return
            after = (mapping.version(records[-1]), int(records[-1]["id"]))
            yield records
            if len(records) < self._page_size:
                return

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        """Re-read records now; an id Tryton no longer has (or no longer selects) is a deletion."""
        spec = OBJECTS[object_type]
        wanted = [int(i) for i in ids]
        rows = await self._read(object_type, wanted)
        found = {r.source_id for r in rows}
        now = self._clock()
        gone = [mapping.deletion(spec.table, str(i), now) for i in wanted if str(i) not in found]
        return rows + gone

    async def _read(self, object_type: str, ids: Sequence[int]) -> list[CanonicalRow]:
        """The records ``ids`` the object's domain selects, mapped (absent ones left out)."""
        if not ids:
            return []
        spec = OBJECTS[object_type]
        domain = [*await self._scope(object_type), ["id", "in", sorted(set(ids))]]
        records = await self._client.search_read(spec.model, domain, spec.fields, context=ALL)
        return await self._rows(object_type, records)

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        """Every live record's id and stamp (deletions are the ids missing from this)."""
        spec = OBJECTS[object_type]
        records = await self._client.search_read(
            spec.model,
            await self._scope(object_type),
            ["last_modified_at"],
            order=[["id", "ASC"]],
            context=ALL,
        )
        return {str(r["id"]): mapping.version(r) for r in records}

    async def volatile_ids(self, object_type: str) -> set[str]:
        """Records a related record's deletion can change (no stamp moves): every
        reconciliation re-reads them in full (``related.VOLATILE``)."""
        if object_type not in VOLATILE:
            return set()
        domain = [*await self._scope(object_type), *VOLATILE[object_type]]
        return {
            str(i)
            for i in await self._client.search(OBJECTS[object_type].model, domain, context=ALL)
        }

    async def apply_command(self, kind: str, payload: Payload, key: str) -> WriteResult:
        """Apply a command to Tryton (``writes.py`` says how each kind stays idempotent)."""
        return await writes.apply_command(self._client, kind, payload, key)

    async def _scope(self, object_type: str) -> Domain:
        """The domain selecting this object type; accounts leave out the firm's own parties
        (the company and its employees are parties in Tryton, but they are not clients)."""
        spec = OBJECTS[object_type]
        if object_type != "account":
            return list(spec.domain)
        internal = set()
        for model in ("company.company", "company.employee"):
            rows = await self._client.search_read(model, [], ["party"], context=ALL)
            internal |= {int(r["party"]) for r in rows}
        return [*spec.domain, ["id", "not in", sorted(internal)]]

    async def _rows(self, object_type: str, records: list[dict[str, Any]]) -> list[CanonicalRow]:
        if object_type == "time_entry":
            return await self._time_entries(records)
        if object_type == "invoice":
            ids = [int(r["id"]) for r in records]
            billed = await projects.projects_of_invoices(self._client, ids)
            return [mapping.invoice(r, billed.get(int(r["id"]))) for r in records]
        return [SIMPLE[object_type](r) for r in records]

    async def _time_entries(self, records: list[dict[str, Any]]) -> list[CanonicalRow]:
        """Timesheet lines with the work they were booked on (its price, its project).

        A line is booked on a timesheet work whose origin is a project work (the project or
        one of its tasks); the project is the root of that work's path. A line on a
        timesheet work of no project is not project time and is left out.
        """
        origins = {r["id"]: projects.work_id(mapping.nested(r, "work.origin")) for r in records}
        booked = await projects.booked_works(self._client, filter(None, origins.values()))
        rows = []
        for record in records:
            work = booked.get(origins[record["id"]] or 0)
            if work is not None:
                currency = str(mapping.nested(work.project, "company.currency.code") or "USD")
                rows.append(mapping.time_entry(record, work, currency))
        return rows


def _changed(since: datetime | None, after: tuple[datetime, int] | None) -> Domain:
    """Records changed since the checkpoint, and after the last (stamp, id) of this pull."""
    domain: Domain = [] if since is None else [["last_modified_at", ">=", since]]
    if after is not None:
        stamp, last_id = after
        domain.append(
            ["OR", ["last_modified_at", ">", stamp],
             [["last_modified_at", ">=", stamp], ["id", ">", last_id]]]
        )  # fmt: skip
    return domain
