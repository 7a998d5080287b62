"""`clientgraph sync`: pull every object of one source now, with a progress bar."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from clientgraph.settings import Settings
from readmodel.db import create_engine
from readmodel.tables import SyncState, table_of
from readmodel.types import utcnow
from sync_jobs.connectors.registry import build_source, open_http, open_shared_limits
from sync_jobs.errors import error_text
from sync_jobs.pull import PullReport, pull_object
from sync_jobs.source_state import mark_failing


@dataclass
class Backfill:
    reports: list[PullReport] = field(default_factory=list)

    def summary(self) -> str:
        return "; ".join(
            f"{r.object_type}: {r.applied} applied, {r.skipped} unchanged, "
            f"{r.parked} waiting for a parent"
            for r in self.reports
        )


async def sync_source(
    settings: Settings, name: str, *, full: bool, objects: list[str] | None, progress: bool
) -> Backfill:
    """Pull ``objects`` (default: all, parents first) of source ``name`` now.

    ``full`` forgets the checkpoints first, so every record is read again (unchanged ones
    still write nothing).
    """
    engine = create_engine(settings.database_url.get_secret_value())
    result = Backfill()
    shared = open_shared_limits(settings)  # the workers' budget too, when they share one
    try:
        async with open_http(name, settings, shared=shared) as http:  # rate and retry limits
            source = build_source(name, settings, http)
            wanted = objects or list(source.objects)
            if full:
                await _forget_checkpoints(engine, source.system, wanted)
            with tqdm(unit="record", disable=not progress, file=sys.stderr) as bar:
                for index, object_type in enumerate(wanted):
                    bar.set_description(f"sync {name} {object_type}")
                    try:
                        report = await pull_object(
                            engine,
                            source,
                            object_type,
                            on_page=bar.update,
                            account_master=settings.sync.account_master,
                        )
                    except Exception as error:  # what it did not reach is not fresh either
                        rest = wanted[index + 1 :]
                        await mark_failing(engine, source.system, rest, error_text(error), utcnow())
                        raise
                    result.reports.append(report)
    finally:
        await engine.dispose()
        if shared is not None:
            await shared.aclose()
    return result


async def _forget_checkpoints(engine: AsyncEngine, system: str, objects: list[str]) -> None:
    t = table_of(SyncState)
    async with engine.begin() as conn:
        await conn.execute(
            update(t)
            .where(t.c.system == system, t.c.object_type.in_(objects))
            .values(checkpoint=None)
        )
