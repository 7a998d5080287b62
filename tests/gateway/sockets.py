"""Talk graphql-transport-ws to an app served on a real socket, one operation after another."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from websockets.asyncio.client import connect


async def socket_messages(
    app: Any, init: dict[str, Any], payloads: list[dict[str, Any]]
) -> list[Any]:
    """Every message each ``subscribe`` payload gets, up to its ``complete`` or ``error``."""
    server = uvicorn.Server(uvicorn.Config(app, port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    seen: list[Any] = []
    try:
        url = f"ws://127.0.0.1:{port}/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for n, payload in enumerate(payloads):
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    seen.append(message)
                    if message["type"] in ("complete", "error"):
                        break
    finally:
        server.should_exit = True
        await task
    return seen
