"""The world's app on a real socket, for the paths a test client cannot drive (WebSocket, and
event streams read as they come)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from tests.access.world import World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(world: World, scheme: str = "ws") -> AsyncIterator[str]:
    """The URL of /graphql on a uvicorn of the world's app (its lifespan already runs)."""
    async with served_app(world.app, scheme) as url:
        yield url


@asynccontextmanager
async def served_app(app: Starlette, scheme: str = "ws") -> AsyncIterator[str]:
    """The URL of /graphql on a uvicorn of ``app`` (its lifespan already runs)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"{scheme}://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
