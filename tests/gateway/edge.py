"""The gateway as the network sees it: the real app, its lifespan, and uvicorn on a socket
configured as ``clientgraph serve`` configures it (``gateway.serve.uvicorn_config``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import Settings
from gateway.app import create_app
from gateway.serve import uvicorn_config
from tests.conftest import FIRM_NOW
from tests.resolvers.commands.world import url_of


@asynccontextmanager
async def edge_app(engine: AsyncEngine, **settings: Any) -> AsyncIterator[Starlette]:
    """The gateway on ``engine`` with its lifespan running; ``settings`` as keyword sections."""
    app = create_app(Settings(database_url=url_of(engine), **settings), clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def on_a_socket(app: Starlette) -> AsyncIterator[tuple[str, int]]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port); yields (host, port)."""
    config = uvicorn_config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        await task
