"""The sync jobs: plain ``async def job(ctx, ...)`` run by the arq worker or the embedded runner.

Their dependencies come from ``ctx["deps"]`` (``sync_jobs.context``). Retry policy:

* a scheduled pull or reconciliation is not retried: the next slot of its schedule is the
  retry, and it resumes from the checkpoint (the failure is in ``sync_state.last_error``);
* an enqueued ``refresh_records`` (a webhook hint) raises ``arq.Retry`` on a transient error,
  deferred by the source's ``Retry-After`` or an exponential back-off;
* a daily quota (``QuotaExhausted``) pauses the whole source for
  ``max(Retry-After, sync.quota_pause_seconds)``; every job skips a paused source.

429/503 storms within a request are absorbed below the jobs, by ``sync_jobs.limits``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from arq import Retry
from opentelemetry.trace import Span

from readmodel.figures.stored import refresh_dated
from sync_jobs.commands.execute import APPLY_MAX_TRIES, apply_command
from sync_jobs.connectors.base import Connector
from sync_jobs.context import SyncDeps, deps_of
from sync_jobs.errors import QuotaExhausted, TransientSourceError, error_text
from sync_jobs.forecast_snapshots import snapshot_forecast
from sync_jobs.handoff.triggers import advance_handoff, advance_handoffs
from sync_jobs.pull import pull_object
from sync_jobs.rolling import Rolling
from sync_jobs.source_state import mark_failing, mark_pulled, rest_source, resting_until
from sync_jobs.tracing import job_span

log = logging.getLogger(__name__)

REFRESH_BACKOFF_SECONDS = 5.0  # first deferral of a refresh without Retry-After; doubles
REFRESH_BACKOFF_CAP_SECONDS = 300.0

Job = Callable[..., Awaitable[Any]]


async def pull_source(ctx: dict[str, Any], source: str) -> dict[str, Any]:
    """Pull every object of ``source``, parents first, unless the source is paused.

    Returns a small report (what arq keeps as the job's result). A trace of its own
    (``sync.pull``) with the pages read and records applied.
    """
    with job_span("sync.pull", ctx, root=True, source=source) as current:
        return await _pull_source(ctx, source, current)


async def _pull_source(ctx: dict[str, Any], source: str, current: Span) -> dict[str, Any]:
    deps = deps_of(ctx)
    connector = deps.source(source)
    if (until := await _paused(deps, connector)) is not None:
        current.set_attribute("clientgraph.paused", True)
        return {"source": source, "paused_until": until.isoformat()}
    applied, pages, master, objects = 0, 0, deps.settings.sync.account_master, connector.objects
    try:
        for index, object_type in enumerate(objects):
            try:
                report = await pull_object(
                    deps.engine, connector, object_type, clock=deps.clock, account_master=master
                )
            except QuotaExhausted:
                raise
            except Exception as error:  # the rest was not reached: it is not fresh either
                rest, now = objects[index + 1 :], deps.clock()
                await mark_failing(deps.engine, connector.system, rest, error_text(error), now)
                raise
            await mark_pulled(deps.engine, connector.system, object_type, deps.clock())
            applied, pages = applied + report.applied, pages + report.pages
            current.set_attributes({"clientgraph.pages": pages, "clientgraph.records": applied})
    except QuotaExhausted as error:
        until = await _pause(deps, connector, error)
        return {"source": source, "paused_until": until.isoformat()}
    await _handoffs_after_pull(ctx)
    return {"source": source, "applied": applied}


async def _handoffs_after_pull(ctx: dict[str, Any]) -> None:
    """Deals the pull saw won get their handoff; waiting ones re-check their data."""
    try:
        await advance_handoffs(ctx)
    except Exception:  # the pull itself succeeded; the next one sweeps again
        log.exception("handoff sweep after a pull failed")


async def refresh_records(
    ctx: dict[str, Any], source: str, object_type: str, ids: list[str]
) -> Any:
    """Re-read ``ids`` of ``object_type`` now (a webhook's hint); retried when transient.

    A trace of its own (``sync.refresh``) with the records asked for and applied.
    """
    attributes = {"object_type": object_type, "records_asked": len(ids)}
    with job_span("sync.refresh", ctx, root=True, source=source, **attributes) as current:
        report = await _refresh_records(ctx, source, object_type, ids)
        for name in ("applied", "skipped", "parked"):
            if isinstance(value := getattr(report, name, None), int):
                current.set_attribute(f"clientgraph.records_{name}", value)
        return report


async def _refresh_records(
    ctx: dict[str, Any], source: str, object_type: str, ids: list[str]
) -> Any:
    from sync_jobs.refresh import refresh_records as refresh  # written alongside webhooks

    deps = deps_of(ctx)
    connector = deps.source(source)
    if (until := await _paused(deps, connector)) is not None:
        raise Retry(defer=until - deps.clock())
    try:
        master = deps.settings.sync.account_master
        return await refresh(
            deps.engine, connector, object_type, ids, clock=deps.clock, account_master=master
        )
    except QuotaExhausted as error:
        until = await _pause(deps, connector, error)
        raise Retry(defer=until - deps.clock()) from error
    except TransientSourceError as error:
        raise Retry(defer=refresh_backoff(ctx.get("job_try", 1), error.retry_after)) from error


async def reconcile_source(ctx: dict[str, Any], source: str) -> Any:
    """Compare the read model's ids with the source's live ids and repair the difference.

    A trace of its own (``sync.reconcile``), one ``sync.reconcile_object`` span per object.
    """
    with job_span("sync.reconcile", ctx, root=True, source=source) as current:
        result = await _reconcile_source(ctx, source)
        if isinstance(result, list):
            fixed, checked = sum(r.fixed for r in result), sum(r.checked for r in result)
            current.set_attributes({"clientgraph.checked": checked, "clientgraph.fixed": fixed})
        else:
            current.set_attribute("clientgraph.paused", True)
        return result


async def _reconcile_source(ctx: dict[str, Any], source: str) -> Any:
    from sync_jobs.reconcile import reconcile_source as reconcile  # written with identity

    deps = deps_of(ctx)
    connector = deps.source(source)
    if (until := await _paused(deps, connector)) is not None:
        return {"source": source, "paused_until": until.isoformat()}
    sync = deps.settings.sync
    rolling = None
    if sync.content_reconcile_period_seconds > 0:
        rolling = Rolling(sync.content_reconcile_period_seconds, sync.reconcile_interval_seconds)
    try:
        return await reconcile(
            deps.engine, connector, clock=deps.clock, account_master=sync.account_master,
            rolling=rolling,
        )  # fmt: skip
    except QuotaExhausted as error:
        until = await _pause(deps, connector, error)
        return {"source": source, "paused_until": until.isoformat()}


async def refresh_figures(ctx: dict[str, Any]) -> dict[str, Any]:
    """The daily refresh of the stored figures (``readmodel.figures.stored``): health is as
    of a date, so every account is recomputed for the new day (and any left stale)."""
    deps = deps_of(ctx)
    today = deps.clock().date()
    refreshed = await refresh_dated(deps.engine, today)
    return {"today": today.isoformat(), "accounts": refreshed}


JOBS: dict[str, Job] = {
    "pull_source": pull_source,
    "refresh_records": refresh_records,
    "reconcile_source": reconcile_source,
    "apply_command": apply_command,  # the write path (sync_jobs.commands.execute)
    "advance_handoff": advance_handoff,  # the quote-to-project handoff (sync_jobs.handoff)
    "snapshot_forecast": snapshot_forecast,  # daily: forecast accuracy's record
    "refresh_figures": refresh_figures,  # stored figures for a new day (daily, and on start)
}
# Tries of jobs whose own state decides when to stop (a command's max_attempts): the
# in-process runner uses these instead of sync.max_retries + 1.
MAX_TRIES: dict[str, int] = {"apply_command": APPLY_MAX_TRIES}


def refresh_backoff(job_try: int, retry_after: float | None) -> float:
    """Seconds before a failed refresh runs again: the source's wish, else 5 s doubling."""
    if retry_after is not None:
        return retry_after
    return min(REFRESH_BACKOFF_CAP_SECONDS, REFRESH_BACKOFF_SECONDS * 2.0 ** max(0, job_try - 1))


async def _paused(deps: SyncDeps, connector: Connector) -> datetime | None:
    """The end of the source's quota pause if it is still resting, else ``None``."""
    until = await resting_until(deps.engine, connector.system, deps.clock())
    if until is None:
        return None
    log.info("sync %s: paused until %s, skipped", connector.system, until.isoformat())
    return until


async def _pause(deps: SyncDeps, connector: Connector, error: QuotaExhausted) -> datetime:
    """Rest the source until its quota is back; record and report why."""
    pause = deps.settings.sync.quota_pause_seconds
    system, objects, now = connector.system, connector.objects, deps.clock()
    until = await rest_source(deps.engine, system, objects, error, pause_seconds=pause, now=now)
    log.warning("sync %s: daily quota exhausted, paused until %s", connector.system, until)
    return until
