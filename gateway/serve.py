"""Run the gateway under uvicorn."""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.applications import Starlette

from clientgraph.settings import Settings
from clientgraph.telemetry.logs import Format
from clientgraph.telemetry.setup import observe
from gateway.collector import settle

UVICORN_OPTIONS: dict[str, Any] = {
    "server_header": False,  # no "server: uvicorn" banner naming what to attack
    "proxy_headers": False,  # X-Forwarded-For is read by gateway.client_address, and only
    # from http.trusted_proxies (uvicorn's own default would trust 127.0.0.1)
    "log_level": "info",  # serve() passes ``log_level`` (uvicorn sets its loggers' levels)
    "log_config": None,  # every line goes through clientgraph.telemetry.logs' one schema
}
"""How uvicorn serves the gateway, wherever it is started."""


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted. With workers > 1 each process builds its own app."""
    observe(settings, "gateway", "json")
    if workers > 1:
        options = UVICORN_OPTIONS | _from_settings(settings)
        uvicorn.run("gateway.asgi:app", host=host, port=port, workers=workers, **options)
        return
    from gateway.app import create_app

    serve_app(create_app(settings), settings, host=host, port=port)


def serve_app(
    app: Starlette, settings: Settings, *, host: str, port: int, log_format: Format = "json"
) -> None:
    """Serve one app in this process (the demo's carries its simulators)."""
    observe(settings, "gateway", log_format)  # a no-op for tracing if serve() did it
    settle()  # startup's objects are left out of every later collection
    uvicorn.run(app, host=host, port=port, **(UVICORN_OPTIONS | _from_settings(settings)))


def _from_settings(settings: Settings) -> dict[str, Any]:
    """A WebSocket message may be as large as an HTTP body, no larger (uvicorn's own: 16 MB);
    uvicorn's own lines (its access log: INFO) at ``log_level`` like every other logger's."""
    return {"ws_max_size": settings.graphql.max_body_bytes, "log_level": settings.log_level.lower()}


def uvicorn_config(app: Starlette, *, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration of the gateway (tests serve it with this too)."""
    return uvicorn.Config(app, host=host, port=port, **(UVICORN_OPTIONS | overrides))
