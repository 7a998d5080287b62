"""``clientgraph worker --health-port N``: liveness and readiness of a worker process over HTTP.

* ``GET /healthz``: 200 while the process runs (its event loop answers).
* ``GET /readyz``: 200 when both arq workers reached Redis on their last poll and the read model
  answers; 503 otherwise, with which one is down. A worker rides out a Redis outage on its
  own (``ResilientWorker``): not-ready is a signal for dashboards and load balancers, not a
  reason to restart it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from readmodel.db import ping

log = logging.getLogger(__name__)


def health_app(workers: Sequence[object], engine: AsyncEngine) -> Starlette:
    """The probes of one worker process; ``workers`` have ``queue_name`` and ``redis_ok``."""

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

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)])


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
