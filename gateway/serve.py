"""Run the gateway under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from clientgraph.settings import Settings


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted. With workers > 1 each process builds its own app."""
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if workers > 1:
        uvicorn.run("gateway.asgi:app", host=host, port=port, workers=workers, log_level="info")
        return
    from gateway.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
