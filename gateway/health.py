"""Liveness and readiness probes for load balancers and orchestrators.

``/readyz`` is 503 only when the read model does not answer: without it nothing can be served.
A queue (Redis) that does not answer, or a source that is stale or failing, leaves the gateway
ready (reads are still served, with ``extensions.freshness``; accepted commands wait in the
command log until the relay can queue them) but shows in the body: ``status`` is ``degraded``
and ``queue`` / ``sources`` say why. docs/operations.md ("Health") says what to alert on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.ops.readings import read_sources
from readmodel.db import ping
from readmodel.reads.freshness import SyncStatus, status_of

log = logging.getLogger("clientgraph.health")
QUEUE_PING_SECONDS = 2.0
HEALTHY_SOURCE = {SyncStatus.OK.value, SyncStatus.PAUSED.value}
"""A paused source rests on purpose (its daily quota); ``extensions.freshness`` tells callers."""


async def healthz(_request: Request) -> JSONResponse:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The read model answers (503 otherwise; the reason is logged, not shown), with the
    queue's and each source's state."""
    state = request.app.state
    try:
        await ping(state.engine)
    except Exception:
        log.warning("readiness check failed: database unreachable", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    redis: Redis | None = getattr(state, "queue_redis", None)
    if redis is not None:
        body["queue"] = await _queue(redis)
    body["sources"] = await _sources(request)
    if body.get("queue", "ok") != "ok" or not _all_healthy(body["sources"]):
        body["status"] = "degraded"
    return JSONResponse(body)


async def _queue(redis: Redis) -> str:
    try:
        await asyncio.wait_for(redis.ping(), QUEUE_PING_SECONDS)  # type: ignore[arg-type]
    except Exception:
        log.warning("readiness: queue (Redis) unreachable", exc_info=True)
        return "unreachable"
    return "ok"


async def _sources(request: Request) -> dict[str, dict[str, str]]:
    """``{system: {object type: ok | stale | failing | paused | never}}``."""
    state = request.app.state
    interval = state.settings.sync.interval_seconds
    now = state.clock()
    found: dict[str, dict[str, str]] = {}
    for source in await read_sources(state.engine, state.sync_objects):
        found.setdefault(source.system, {})[source.object_type] = status_of(
            source, now, interval
        ).value
    return found


def _all_healthy(sources: dict[str, dict[str, str]]) -> bool:
    return all(s in HEALTHY_SOURCE for objects in sources.values() for s in objects.values())
