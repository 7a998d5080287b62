"""Re-read named records now (a webhook hint) and apply them like any pulled page.

A refresh never moves a checkpoint: it reads records out of the stream the incremental
pull follows, and the pull must still read everything after its own position. Applying
through ``pull.apply_page`` gives the same guarantees as a pull: the version guard drops a
read older than what the read model holds, a deletion only wins over older versions, and a
record whose parent is missing is parked rather than lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.types import utcnow
from sync_jobs.apply import ApplyResult
from sync_jobs.identity import DEFAULT_ACCOUNT_MASTER
from sync_jobs.parking import retry_parked
from sync_jobs.pull import apply_page
from sync_jobs.rows import CanonicalRow


class Refetchable(Protocol):
    """The part of a connector a refresh needs (``connectors.base.Connector`` has it)."""

    system: str

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]: ...


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did; ``parked`` rows wait for their parent like a pull's orphans."""

    system: str
    object_type: str
    asked: int
    applied: int
    skipped: int
    parked: int


async def refresh_records(
    engine: AsyncEngine,
    connector: Refetchable,
    object_type: str,
    ids: Sequence[str],
    *,
    clock: Callable[[], datetime] = utcnow,
    account_master: str = DEFAULT_ACCOUNT_MASTER,
) -> RefreshReport:
    """Fetch ``ids`` of ``object_type`` from the source and apply them in one transaction.

    Ids the source no longer has come back from ``fetch`` as deletions. When something was
    applied, rows parked for want of a parent are retried in the same transaction: the
    refreshed record may be the parent they wait for. ``account_master``
    (``settings.sync.account_master``) is passed on to apply, as a pull does.

    Raises:
        TransientSourceError / PermanentSourceError: from the connector; nothing is written.
    """
    rows = await connector.fetch(object_type, ids)
    now = clock()
    async with engine.begin() as conn:
        result = await apply_page(conn, rows, object_type, now, account_master=account_master)
        late = ApplyResult()
        if result.applied:
            late = await retry_parked(conn, connector.system, now, account_master=account_master)
    return RefreshReport(
        system=connector.system,
        object_type=object_type,
        asked=len(ids),
        applied=result.applied + late.applied,
        skipped=result.skipped,
        parked=len(result.deferred),
    )
