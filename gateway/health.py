"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from readmodel.db import ping

log = logging.getLogger("clientgraph.health")


async def healthz(_request: Request) -> JSONResponse:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The read model answers; 503 otherwise (the reason is logged, not shown)."""
    try:
        await ping(request.app.state.engine)
    except Exception:
        log.warning("readiness check failed: database unreachable", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
