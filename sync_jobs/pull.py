"""Pull one object type of one source, page by page, resumable after any crash.

Each page's rows, any rows parked for want of a parent, and the checkpoint after the page
commit in one transaction: a process killed mid-pull resumes from its last committed page
and loses nothing (at worst a page is read twice, which the version guard makes harmless).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.figures.stored import lock_figures, refresh_dated, refresh_stale
from readmodel.types import utcnow
from sync_jobs.apply import ApplyResult, apply_rows
from sync_jobs.checkpoints import load_checkpoint, save_failure, save_page, start_pull
from sync_jobs.errors import error_text
from sync_jobs.identity import DEFAULT_ACCOUNT_MASTER
from sync_jobs.parking import park, retry_parked
from sync_jobs.rows import CanonicalRow
from sync_jobs.tracing import report_attributes, span
from sync_jobs.wins import held_before, observe


@dataclass(frozen=True)
class Page:
    """Canonical rows read from a source, and the checkpoint to resume after them."""

    rows: Sequence[CanonicalRow]
    checkpoint: str | None


class Source(Protocol):
    """The read side of a connector."""

    system: str
    objects: tuple[str, ...]  # what it can pull, parents first

    def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        """Pages of changes since ``checkpoint`` (``None``: from the beginning)."""
        ...


@dataclass
class PullReport:
    system: str
    object_type: str
    pages: int = 0
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    error: str | None = None


async def pull_object(
    engine: AsyncEngine,
    source: Source,
    object_type: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_page: Callable[[int], None] | None = None,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
) -> PullReport:
    """Pull ``object_type`` from ``source`` until it has nothing new; record the outcome.

    A failure is recorded in ``sync_state`` (the checkpoint stays at the last good page) and
    re-raised, so the scheduler's retry policy decides what happens next. ``on_page`` hears
    how many records each committed page held (for progress bars). ``account_master``
    (``settings.sync.account_master``) owns the client list: other systems' clients are linked.
    A span of its own (``sync.pull_object``) says the pages read and the records applied.
    """
    with span("sync.pull_object", source=source.system, object_type=object_type) as current:
        report = PullReport(source.system, object_type)
        try:
            return await _pull_object(engine, source, report, clock, on_page, account_master)
        finally:
            current.set_attributes(
                report_attributes(report, "pages", "applied", "skipped", "parked")
            )


async def _pull_object(
    engine: AsyncEngine,
    source: Source,
    report: PullReport,
    clock: Callable[[], datetime],
    on_page: Callable[[int], None] | None,
    account_master: str,
) -> PullReport:
    object_type = report.object_type
    async with engine.begin() as conn:
        await start_pull(conn, source.system, object_type)
        parked = await retry_parked(conn, source.system, clock(), account_master=account_master)
        _count(report, parked)
        checkpoint = await load_checkpoint(conn, source.system, object_type)
    try:
        async for page in source.pull(object_type, checkpoint):
            now = clock()
            async with engine.begin() as conn:
                result = await apply_page(
                    conn,
                    page.rows,
                    object_type,
                    now,
                    account_master=account_master,
                    backfill=checkpoint is None,
                    refresh=checkpoint is not None,  # a backfill refreshes once, at its end
                )
                await save_page(
                    conn, source.system, object_type, page.checkpoint, result.applied, now
                )
            report.pages += 1
            _count(report, result)
            if on_page is not None:
                on_page(len(page.rows))
    except Exception as error:
        report.error = error_text(error)
        async with engine.begin() as conn:
            await save_failure(conn, source.system, object_type, report.error, clock())
        raise
    if report.parked:  # parents may have arrived on a later page of this same pull
        async with engine.begin() as conn:
            late = await retry_parked(conn, source.system, clock(), account_master=account_master)
        report.applied += late.applied
        report.parked = len(late.deferred)
    if checkpoint is None and report.applied:  # until now the compiled path answered per field
        await refresh_dated(engine, clock().date())  # 500 accounts per transaction
    return report


async def apply_page(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    object_type: str,
    now: datetime,
    *,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
    backfill: bool | None = None,
    refresh: bool = True,
) -> ApplyResult:
    """Apply a page table by table (in first-seen order); park what still has no parent.

    Rows deferred in the first pass get a second one: their parent may be on the same page
    (a subsidiary listed before its parent account). Deals the page turns won are recorded
    as observed wins (``sync_jobs.wins``), and the stored figures of the accounts it touched
    are recomputed (``readmodel.figures.stored``; ``refresh=False``: the caller does it
    later, as a backfill after its last page, the compiled path answering per field until
    then); ``backfill`` says whether the page belongs to
    an object's initial backfill, whose new deals are history, not changes (``None``:
    while the object has no checkpoint).
    """
    await lock_figures(conn)  # before the first write: figures' writers go one at a time
    before = await held_before(conn, rows)
    first = await _apply_tables(conn, rows, object_type, now, account_master)
    second = await _apply_tables(conn, first.deferred, object_type, now, account_master)
    await park(conn, second.deferred, object_type, now)
    await observe(conn, rows, before, now, object_type=object_type, backfill=backfill)
    if refresh:  # the figures the page changed, in its transaction
        await refresh_stale(conn, now.date())
    return ApplyResult(
        applied=first.applied + second.applied,
        skipped=first.skipped + second.skipped,
        deferred=second.deferred,
    )


async def _apply_tables(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    object_type: str,
    now: datetime,
    account_master: str,
) -> ApplyResult:
    total = ApplyResult()
    for table in dict.fromkeys(r.table for r in rows):
        result = await apply_rows(
            conn,
            [r for r in rows if r.table == table],
            now,
            account_master=account_master,
            object_type=object_type,
        )
        total.applied += result.applied
        total.skipped += result.skipped
        total.deferred += result.deferred
    return total


def _count(report: PullReport, result: ApplyResult) -> None:
    report.applied += result.applied
    report.skipped += result.skipped
    report.parked += len(result.deferred)
