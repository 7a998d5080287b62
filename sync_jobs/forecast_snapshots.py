"""``snapshot_forecast``: store today's revenue forecast so its accuracy can be measured.

An arq cron (``sync_jobs.worker``, daily at ``SNAPSHOT_HOUR``:``SNAPSHOT_MINUTE`` UTC) in
production; a daily loop of the in-process runner in the embedded mode. Idempotent per day:
the first snapshot of a day stands, so a second run, a retry or a second worker changes
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from readmodel.forecasts.rules import Rules
from readmodel.forecasts.snapshots import SNAPSHOT, take_snapshot
from readmodel.seed.history import seed_snapshots
from sync_jobs.context import deps_of
from sync_jobs.handoff.templates import weeks_of

log = logging.getLogger(__name__)

SNAPSHOT_HOUR = 2  # UTC: after the night's pulls; a day's snapshot is taken once
SNAPSHOT_MINUTE = 17
SNAPSHOT_TIMEOUT_SECONDS = 300  # six reads of open work and one insert
SNAPSHOT_INTERVAL_SECONDS = 3600.0
"""The in-process runner tries hourly: the first try of a new UTC day takes its snapshot."""


async def snapshot_forecast(ctx: dict[str, Any]) -> dict[str, Any]:
    """Take today's (UTC) forecast snapshot unless it is stored; how many rows it wrote."""
    deps = deps_of(ctx)
    day = deps.clock().date()
    months = deps.settings.forecasts.snapshot_months
    history = deps.settings.forecasts.history_months
    rules = Rules.of(deps.settings.forecasts, weeks_of)
    if history and not await _has_history(deps.engine, day):
        try:
            rebuilt = await seed_snapshots(
                deps.engine, day, months, rules, progress=False, history_months=history
            )
        except IntegrityError:  # another worker rebuilt the same days first
            rebuilt = 0
        log.info("forecast history reconstructed: %d months, %d rows", history, rebuilt)
    try:
        async with deps.engine.begin() as conn:
            written = await take_snapshot(conn, day, months, rules)
    except IntegrityError:  # another worker stored the same day first
        written = 0
    log.info("forecast snapshot of %s: %d rows", day, written)
    return {"taken_on": day.isoformat(), "rows": written}


async def _has_history(engine: Any, day: Any) -> bool:
    """Whether a snapshot taken before ``day`` is stored."""
    async with engine.connect() as conn:
        before = select(SNAPSHOT.c.id).where(SNAPSHOT.c.taken_on < day).limit(1)
        return await conn.scalar(before) is not None
