"""Reconciliation: compare the read model with a source and repair what drifted.

Pulls and webhooks are incremental, so a missed event, a hard delete the change feed never
reported, or a row damaged outside sync would otherwise stay wrong for good. Reconciling one
object type compares the source's live ids and version stamps (``connector.live_ids``) with
the read model's rows of that system, then re-reads every id that differs
(``connector.fetch``) and applies the answer through the pull's own ``apply_page``:

- live here, gone at the source → ``fetch`` confirms the deletion → tombstoned;
- at the source, missing (or tombstoned) here → inserted / revived;
- stored version differs from the source's → rewritten from the source.

A row whose stamp differs is first *rewound* (version → epoch, content hash → NULL), so the
version-guarded upsert accepts the source's record even when the stored stamp is ahead of the
source's (a corrupted row would otherwise block every later update). The rewind is guarded
by the stamp read at the start, so a pull that wrote the row meanwhile wins. Clients of a
non-master system are compared with their ``account_xref`` links instead of account rows.

The read model is read *before* the source's id list: a record created in between is then
merely re-applied (harmless), never mistaken for a deletion.

Stamps cannot reveal a value that changed without moving its record's stamp, so with a
``Rolling`` schedule each run also re-reads a slice of the live records (and the records a
connector names ``Volatile``) and applies them without rewinding: the version guard accepts
an equal stamp with other content, so only records whose payload hash differs are written
(``content_checked``, ``content_repaired``; ``repaired_ids`` names what changed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.figures.stored import lock_figures
from readmodel.tables import AccountXref, SyncState, metadata, table_of
from readmodel.types import utcnow
from sync_jobs.connectors.base import Connector
from sync_jobs.identity import DEFAULT_ACCOUNT_MASTER, needs_identity
from sync_jobs.pull import apply_page
from sync_jobs.reconcile_rows import REWOUND, Stamp, Stored, Target, contents, set_stamps, stamps
from sync_jobs.rolling import Rolling, Volatile
from sync_jobs.rows import CanonicalRow
from sync_jobs.sql import upsert_insert
from sync_jobs.tracing import report_attributes, span

XREF = table_of(AccountXref)
STATE = table_of(SyncState)
CHUNK = 500  # ids fetched and applied per transaction (bounds IN lists and fetch requests)
NAMED = 20  # repaired ids named in a report (the counts are complete)
REPORT_CHARS = 1000  # sync_state.last_reconcile_report's width
COUNTS = (  # the report's counts, each a span attribute (clientgraph.<count>)
    *("checked", "tombstoned", "repaired", "realigned"),
    *("parked", "content_checked", "content_repaired"),
)


@dataclass
class ReconcileReport:
    """What one reconciliation of one object type found and fixed."""

    system: str
    object_type: str
    checked: int = 0  # ids compared (source ∪ live read model)
    tombstoned: int = 0  # live here, deleted at the source
    repaired: int = 0  # missing here, or its content differed from the source's
    realigned: int = 0  # content right, version stamp corrected
    parked: int = 0  # re-read but waiting for a parent or an identity match
    content_checked: int = 0  # stamp unchanged, re-read in full to compare content
    content_repaired: int = 0  # of those, content differed and was rewritten
    repaired_ids: list[str] = field(default_factory=list)  # the first NAMED repaired

    @property
    def fixed(self) -> int:
        return self.tombstoned + self.repaired + self.realigned

    def to_json(self) -> str:
        """The report as stored; long source ids are named fewer, so it fits its column."""
        values = asdict(self)
        text = json.dumps(values, sort_keys=True)
        while len(text) > REPORT_CHARS and values["repaired_ids"]:
            values["repaired_ids"].pop()
            text = json.dumps(values, sort_keys=True)
        return text


async def reconcile_source(
    engine: AsyncEngine,
    connector: Connector,
    *,
    clock: Callable[[], datetime] = utcnow,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
    rolling: Rolling | None = None,
) -> list[ReconcileReport]:
    """Reconcile every object type of ``connector``, parents first."""
    return [
        await reconcile_object(
            engine,
            connector,
            object_type,
            clock=clock,
            account_master=account_master,
            rolling=rolling,
        )
        for object_type in connector.objects
    ]


async def reconcile_object(
    engine: AsyncEngine,
    connector: Connector,
    object_type: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
    rolling: Rolling | None = None,
) -> ReconcileReport:
    """Repair the read model's copy of ``object_type``; store and return the report.

    With ``rolling``, also re-read this run's slice of live records (and the connector's
    volatile ones) and rewrite those whose content differs. The report lands in
    ``sync_state.last_reconciled_at`` / ``last_reconcile_report``. A span of its own
    (``sync.reconcile_object``) carries the report's counts.
    """
    report = ReconcileReport(connector.system, object_type)
    with span("sync.reconcile_object", source=connector.system, object_type=object_type) as s:
        try:
            return await _reconcile(engine, connector, report, clock, account_master, rolling)
        finally:
            s.set_attributes(report_attributes(report, *COUNTS))


async def _reconcile(
    engine: AsyncEngine,
    connector: Connector,
    report: ReconcileReport,
    clock: Callable[[], datetime],
    account_master: str,
    rolling: Rolling | None,
) -> ReconcileReport:
    object_type = report.object_type
    target = _target(connector, object_type, account_master)
    async with engine.connect() as conn:
        before = await stamps(conn, target)
    source = await connector.live_ids(object_type)
    report.checked = len(source.keys() | {i for i, s in before.items() if s.live})
    drifted = _drifted(before, source)
    for ids in _chunks(sorted(drifted)):
        rows = await connector.fetch(object_type, ids)
        async with engine.begin() as conn:
            await _repair(conn, target, rows, ids, before, report, clock(), account_master)
    content = await _content_due(connector, object_type, source, rolling, clock()) - drifted
    report.content_checked = len(content)
    for ids in _chunks(sorted(content)):
        rows = await connector.fetch(object_type, ids)
        async with engine.begin() as conn:
            await _recheck(conn, target, rows, ids, report, clock(), account_master)
    async with engine.begin() as conn:
        await _save(conn, report, clock())
    return report


def _target(connector: Connector, object_type: str, account_master: str) -> Target:
    name = connector.tables[object_type]
    probe = CanonicalRow(name, connector.system, "", REWOUND)
    if needs_identity(probe, account_master):
        return Target(connector.system, XREF, xref=True)
    return Target(connector.system, metadata.tables[name], xref=False)


def _drifted(before: dict[str, Stamp], source: dict[str, datetime]) -> set[str]:
    """Ids live here but gone there, missing or dead here, or stamped differently."""
    gone = {i for i, s in before.items() if s.live and i not in source}
    differ = {
        i
        for i, version in source.items()
        if (s := before.get(i)) is None or not s.live or s.version != version
    }
    return gone | differ


async def _content_due(
    connector: Connector,
    object_type: str,
    source: dict[str, datetime],
    rolling: Rolling | None,
    now: datetime,
) -> set[str]:
    """Live ids to re-read for content this run: the rolling slice and the volatile ones."""
    if rolling is None:
        return set()
    due = rolling.due(source, now)
    if isinstance(connector, Volatile):
        due |= await connector.volatile_ids(object_type) & source.keys()
    return due


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def _repair(
    conn: AsyncConnection,
    target: Target,
    rows: Sequence[CanonicalRow],
    ids: Sequence[str],
    before: dict[str, Stamp],
    report: ReconcileReport,
    now: datetime,
    account_master: str,
) -> None:
    """Rewind, apply what the source answered, and count what really changed."""
    stored = {i: before[i] for i in ids if i in before}
    was = await contents(conn, target, ids)
    await lock_figures(conn)  # before the rewind writes: the lock comes before the first write
    await set_stamps(conn, target, stored, rewind=True)
    result = await apply_page(conn, rows, report.object_type, now, account_master=account_master)
    waiting = {r.source_id for r in result.deferred}
    await set_stamps(conn, target, {i: s for i, s in stored.items() if i in waiting})
    now_stored = await contents(conn, target, ids)
    for i in ids:
        _tally(report, was.get(i), now_stored.get(i), waiting=i in waiting)
    _name(report, _changed(ids, was, now_stored))


async def _recheck(
    conn: AsyncConnection,
    target: Target,
    rows: Sequence[CanonicalRow],
    ids: Sequence[str],
    report: ReconcileReport,
    now: datetime,
    account_master: str,
) -> None:
    """Apply a fresh read of records whose stamps agree: only changed content is written."""
    was = await contents(conn, target, ids)
    result = await apply_page(conn, rows, report.object_type, now, account_master=account_master)
    report.parked += len(result.deferred)
    now_stored = await contents(conn, target, ids)
    changed = _changed(ids, was, now_stored)
    report.content_repaired += len(changed)
    _name(report, changed)


def _changed(ids: Sequence[str], was: dict[str, Stored], now: dict[str, Stored]) -> list[str]:
    """The ids whose liveness or data columns differ between the two reads."""

    def content(stored: Stored | None) -> tuple[Any, ...] | None:
        return None if stored is None else (stored.live, stored.values)

    return [i for i in ids if content(was.get(i)) != content(now.get(i))]


def _name(report: ReconcileReport, ids: Sequence[str]) -> None:
    report.repaired_ids.extend(ids[: max(0, NAMED - len(report.repaired_ids))])


def _tally(
    report: ReconcileReport, was: Stored | None, now: Stored | None, *, waiting: bool
) -> None:
    """Count what the stored record became, not what was attempted."""
    if waiting:
        report.parked += 1
    elif was is not None and was.live and (now is None or not now.live):
        report.tombstoned += 1
    elif now is None or not now.live:
        return  # dead before and after
    elif was is None or not was.live or was.values != now.values:
        report.repaired += 1
    elif was.version != now.version:
        report.realigned += 1


async def _save(conn: AsyncConnection, report: ReconcileReport, at: datetime) -> None:
    """Keep the outcome where ``freshness`` and operators can see it."""
    stmt = upsert_insert(conn, STATE).values(
        system=report.system,
        object_type=report.object_type,
        records_applied=0,
        last_reconciled_at=at,
        last_reconcile_report=report.to_json(),
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["system", "object_type"],
            set_={
                "last_reconciled_at": stmt.excluded.last_reconciled_at,
                "last_reconcile_report": stmt.excluded.last_reconcile_report,
            },
        )
    )
