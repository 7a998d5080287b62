"""``clientgraph worker --health-port N``: liveness and readiness of a worker process over HTTP.

* ``GET /healthz``: 200 while the process runs (its event loop answers).
* ``GET /readyz``: 200 when both arq workers reached Redis on their last poll and the read model
  answers; 503 otherwise, with which one is down. A worker rides out a Redis outage on its
  own (``ResilientWorker``): not-ready is a signal for dashboards and load balancers, not a
  reason to restart it.
* ``GET /metrics``: this process's counters and histograms (command attempts by outcome,
  handoff cycle time, …) in Prometheus' text format, for the scrape token
  (``ops.metrics_token``) or an operator's or admin's API key, like the gateway's ``/metrics``.
  The read model's and Redis' readings (queue depth, lag, dead letters) are the gateway's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import timedelta

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clientgraph.access.principal import Principal
from clientgraph.access.roles import parse_role
from clientgraph.access.scrape import scrape_refusal
from clientgraph.metrics import exposition
from clientgraph.settings import Settings
from readmodel import api_keys
from readmodel.db import ping
from readmodel.types import utcnow

log = logging.getLogger(__name__)


def health_app(
    workers: Sequence[object], engine: AsyncEngine, settings: Settings | None = None
) -> Starlette:
    """The probes of one worker process; ``workers`` have ``queue_name`` and ``redis_ok``.
    With ``settings``, ``/metrics`` too."""

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        queues = {str(w.queue_name): bool(w.redis_ok) for w in workers}  # type: ignore[attr-defined]
        database = "ok"
        try:
            await asyncio.wait_for(ping(engine), timeout=2)
        except Exception:
            log.warning("worker readiness: database unreachable", exc_info=True)
            database = "unreachable"
        ready = all(queues.values()) and database == "ok"
        body = {
            "status": "ok" if ready else "unavailable",
            "redis": "ok" if all(queues.values()) else "unreachable",
            "queues": {name: "ok" if ok else "unreachable" for name, ok in queues.items()},
            "database": database,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
    if settings is not None:
        routes.append(Route("/metrics", metrics_endpoint(settings, engine)))
    return Starlette(routes=routes)


def metrics_endpoint(
    settings: Settings, engine: AsyncEngine
) -> Callable[[Request], Awaitable[Response]]:
    """``/metrics`` of the worker: the scrape token, or an operator's or admin's API key (the
    worker verifies no JWTs)."""
    touch = timedelta(seconds=settings.auth.key_touch_seconds)

    async def principal_of(authorization: str | None) -> Principal | str:
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not api_keys.looks_like_key(credential):
            return "send Authorization: Bearer <scrape token or operator API key>"
        key = await api_keys.check(engine, credential, now=utcnow(), touch_every=touch)
        role = None if key is None else parse_role(key.role)
        if key is None or role is None:
            return "API key not recognised, or revoked"
        return Principal(id=f"key:{key.key_id}", role=role, credential_id=key.key_id)

    async def metrics(request: Request) -> Response:
        authorization = request.headers.get("authorization")
        refused = await scrape_refusal(authorization, settings.ops.metrics_token, principal_of)
        if refused is not None:
            return refused
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


async def serve_health(app: Starlette, port: int, host: str = "127.0.0.1") -> None:
    """Serve the probes until cancelled (signals stay with the worker)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", server_header=False
    )
    server = uvicorn.Server(config)
    # ``_serve``, not ``serve``: the latter captures SIGINT/SIGTERM, which the worker handles
    task = asyncio.create_task(server._serve())
    try:
        await asyncio.shield(task)
    finally:
        server.should_exit = True
        with suppress(asyncio.CancelledError):
            await task
