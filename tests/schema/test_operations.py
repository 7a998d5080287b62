"""Several operations and no ``operationName``: a request error on the WebSocket as over HTTP
(HTTP: tests/gateway/test_media_types.py); with a name, the named one runs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from schema.operations import SEVERAL
from tests.conftest import Firm, running_app
from tests.federation.live import serving

DOCUMENT = "query A { __typename } query B { freshness { system } }"


async def _next(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))


async def _ask(ws: ClientConnection, id_: str, payload: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps({"id": id_, "type": "subscribe", "payload": payload}))
    return await _next(ws)


async def test_the_socket_refuses_several_operations_without_a_name(firm: Firm) -> None:
    async with running_app(firm.url) as app, serving(app) as url:
        ws_url = url.replace("http://", "ws://")
        async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init"}))
            assert (await _next(ws))["type"] == "connection_ack"
            unnamed = await _ask(ws, "1", {"query": DOCUMENT})
            named = await _ask(ws, "2", {"query": DOCUMENT, "operationName": "B"})

    assert unnamed["type"] == "error", unnamed
    assert [e["message"] for e in unnamed["payload"]] == [SEVERAL]
    assert named["type"] == "next", named
    assert "freshness" in named["payload"]["data"]
