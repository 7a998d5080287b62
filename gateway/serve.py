"""Run the gateway under uvicorn."""

from __future__ import annotations

import logging

import uvicorn
from starlette.applications import Starlette

from clientgraph.settings import Settings


def configure_logging(settings: Settings) -> None:
    """One line per record; httpx's per-request lines (sync's calls to sources) only as DEBUG."""
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if logging.root.level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted. With workers > 1 each process builds its own app."""
    configure_logging(settings)
    if workers > 1:
        uvicorn.run("gateway.asgi:app", host=host, port=port, workers=workers, log_level="info")
        return
    from gateway.app import create_app

    serve_app(create_app(settings), settings, host=host, port=port)


def serve_app(app: Starlette, settings: Settings, *, host: str, port: int) -> None:
    """Serve one app in this process (the demo's carries its simulators)."""
    configure_logging(settings)
    uvicorn.run(app, host=host, port=port, log_level="info")
