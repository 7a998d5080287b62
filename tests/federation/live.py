"""clientgraph and other ASGI apps on real sockets in the test's event loop, for Node clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from sqlalchemy import text

from readmodel import api_keys
from tests.conftest import FIRM_NOW, Firm
from tests.e2e.processes import free_port


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """``app`` on a real socket in this event loop; yields its /graphql URL."""
    port = free_port()
    config = uvicorn.Config(app, port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def finance_key(firm: Firm) -> AsyncIterator[str]:
    key, stored = await api_keys.create(
        firm.engine, name="supergraph", role="finance", now=FIRM_NOW
    )
    try:
        yield key
    finally:
        async with firm.engine.begin() as conn:
            await conn.execute(text("DELETE FROM api_key WHERE key_id = :k"), {"k": stored.key_id})
