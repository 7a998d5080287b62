"""The same rules over graphql-transport-ws: credentials in connection_init, the same
answers (data and masked paths) as over HTTP, and ``commandUpdated`` follows only the
caller's own commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from clientgraph.access.roles import Role
from resolvers.handoffs.queries import to_handoff_id
from resolvers.ids import to_global_id
from tests.access.generate import graphql_schema, query_documents
from tests.access.oracle import assert_alike
from tests.access.samples import sample_ids
from tests.access.served import served
from tests.access.world import World, bearer

SCHEMA = graphql_schema()
ROLES = (Role.PARTNER, Role.FINANCE, Role.ADMIN)  # scoped, money detail, everything
DOCUMENTS = ("projects", "node", "commands", "auditLog")
FOLLOW = "subscription($id: ID!) { commandUpdated(id: $id) { id status } }"
FOLLOW_HANDOFF = "subscription($id: ID!) { handoffUpdated(id: $id) { id status } }"


async def _next(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))


@asynccontextmanager
async def socket_as(url: str, payload: dict[str, Any] | None) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=["graphql-transport-ws"], max_size=None) as ws:  # type: ignore[list-item]
        init: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            init["payload"] = payload
        await ws.send(json.dumps(init))
        yield ws


async def _run(
    ws: ClientConnection, op: str, query: str, variables: dict[str, Any], *, single: bool = True
) -> dict[str, Any]:
    """One operation: its first result (``next``'s payload, or an ``error``'s as errors);
    ``single``: a query or mutation, whose ``complete`` follows."""
    await ws.send(
        json.dumps(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    message = await _next(ws)
    if message["type"] == "error":
        return {"data": None, "errors": message["payload"]}
    assert message["type"] == "next", message
    if single:
        assert await _next(ws) == {"id": op, "type": "complete"}
    return dict(message["payload"])


@pytest.mark.parametrize(
    "payload", [None, {}, {"Authorization": "Bearer cg_nope"}], ids=["none", "empty", "bad"]
)
async def test_connection_init_without_good_credentials_closes_4403(
    world: World, payload: Any
) -> None:
    async with served(world) as url, socket_as(url, payload) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _next(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_the_socket_answers_as_http_does(world: World, role: Role) -> None:
    caller = world.caller(role)
    documents = [d for d in query_documents(SCHEMA, await sample_ids(world)) if d.root in DOCUMENTS]
    async with served(world) as url, socket_as(url, bearer(caller.key)) as ws:
        assert (await _next(ws))["type"] == "connection_ack"
        for n, document in enumerate(documents):  # one socket, several operations
            over_ws = await _run(ws, str(n), document.text, {})
            over_http = await caller.post(document.text)
            where = f"{role} × {document.root}"
            assert_alike(over_ws, over_http, where)


async def _commands_of(world: World, principal: str) -> list[int]:
    async with world.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM command WHERE principal_id = :p ORDER BY id"), {"p": principal}
        )
        return [int(r[0]) for r in rows]


async def test_command_updated_follows_own_commands_only(world: World) -> None:
    partner, delivery = world.caller(Role.PARTNER), world.caller(Role.DELIVERY)
    (own, *_) = await _commands_of(world, partner.principal_id)
    (others, *_) = await _commands_of(world, delivery.principal_id)
    own_id, other_id = to_global_id("Command", own), to_global_id("Command", others)
    missing_id = to_global_id("Command", 987_654_321)
    async with served(world) as url, socket_as(url, bearer(partner.key)) as ws:
        assert (await _next(ws))["type"] == "connection_ack"
        followed = await _run(ws, "own", FOLLOW, {"id": own_id}, single=False)
        await ws.send(json.dumps({"id": "own", "type": "complete"}))
        refused = await _run(ws, "other", FOLLOW, {"id": other_id})  # errors, then complete
        absent = await _run(ws, "missing", FOLLOW, {"id": missing_id})

    assert followed["data"] == {"commandUpdated": {"id": own_id, "status": "ACCEPTED"}}
    assert not refused.get("data"), refused
    (error,), (baseline,) = refused["errors"], absent["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == baseline["message"].replace(missing_id, other_id)


async def test_handoff_updated_is_for_internal_roles(world: World) -> None:
    async with world.engine.connect() as conn:
        first = (await conn.execute(text("SELECT min(id) FROM handoff"))).scalar_one()
    handoff = to_handoff_id(int(first))
    async with served(world) as url:
        async with socket_as(url, bearer(world.caller(Role.PARTNER).key)) as ws:
            assert (await _next(ws))["type"] == "connection_ack"
            refused = await _run(ws, "partner", FOLLOW_HANDOFF, {"id": handoff})
        async with socket_as(url, bearer(world.caller(Role.DELIVERY).key)) as ws:
            assert (await _next(ws))["type"] == "connection_ack"
            followed = await _run(ws, "delivery", FOLLOW_HANDOFF, {"id": handoff}, single=False)

    assert not refused.get("data"), refused
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert followed["data"]["handoffUpdated"]["id"] == handoff, followed
    assert not followed.get("errors"), followed
