"""A caller follows at most ``subscriptions.max_per_caller`` subscriptions at once, over every
transport together: one more is refused with TOO_MANY_SUBSCRIPTIONS (an ``error`` for that
operation on a WebSocket, which stays open; HTTP 429 over SSE), another caller is not
affected, queries are not counted, and a slot comes back when its stream ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection

from clientgraph.access.roles import Role
from clientgraph.settings_streams import SubscriptionSettings
from resolvers.ids import to_global_id
from tests.access.served import served_app
from tests.access.test_sse import FOLLOW_COMMAND, _events, stream
from tests.access.test_websocket import _next, socket_as
from tests.access.world import World, bearer, matrix_app

CAP = 2
TOO_MANY = "TOO_MANY_SUBSCRIPTIONS"
PATIENCE = 30.0  # seconds for a slot to come back on a loaded machine (it takes milliseconds)


@asynccontextmanager
async def capped(world: World) -> AsyncIterator[str]:
    """The http:// URL of /graphql on an app whose callers may follow ``CAP`` at once."""
    subscriptions = SubscriptionSettings(max_per_caller=CAP)
    async with matrix_app(world.url, subscriptions) as app, served_app(app, "http") as url:
        yield url


async def own_command(world: World, role: Role) -> str:
    """A command of that caller's which stays ACCEPTED (nothing runs them): followed forever."""
    statement = "SELECT min(id) FROM command WHERE principal_id = :p"
    async with world.engine.connect() as conn:
        found = await conn.execute(text(statement), {"p": world.caller(role).principal_id})
        return to_global_id("Command", int(found.scalar_one()))


async def _subscribe(ws: ClientConnection, op: str, command: str) -> dict[str, Any]:
    payload = {"query": FOLLOW_COMMAND, "variables": {"id": command}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
    return await _next(ws)


async def _opened_socket(url: str, key: str) -> AsyncIterator[ClientConnection]:
    async with socket_as(url.replace("http", "ws", 1), bearer(key)) as ws:
        assert (await _next(ws))["type"] == "connection_ack"
        yield ws


socket_of = asynccontextmanager(_opened_socket)


async def _sse_status(url: str, key: str, command: str) -> tuple[int, Any]:
    """A subscription over SSE: (200, its first event) or (status, the refusal's body)."""
    async with stream(url, key, FOLLOW_COMMAND, {"id": command}) as response:
        if response.status_code != 200:
            return response.status_code, json.loads(await response.aread())
        (first,) = await _events(response, most=1)
        return 200, first


async def test_over_the_cap_a_socket_operation_gets_an_error_and_the_socket_stays(
    world: World,
) -> None:
    delivery = world.caller(Role.DELIVERY)
    command = await own_command(world, Role.DELIVERY)
    async with capped(world) as url, socket_of(url, delivery.key) as ws:
        for n in range(CAP):
            assert (await _subscribe(ws, f"s{n}", command))["type"] == "next"
        refused = await _subscribe(ws, "over", command)
        assert refused["type"] == "error" and refused["id"] == "over", refused
        assert [e["extensions"]["code"] for e in refused["payload"]] == [TOO_MANY]
        query = {"query": "{ freshness { status } }"}  # a query is not a stream: not counted
        await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": query}))
        answered = await _next(ws)
        assert answered["type"] == "next", answered
        assert await _next(ws) == {"id": "q", "type": "complete"}
        await ws.send(json.dumps({"id": "s0", "type": "complete"}))  # the client stops one
        again = await _until_next(ws, command)
    assert again["type"] == "next", again


async def _until_next(ws: ClientConnection, command: str, name: str = "again") -> dict[str, Any]:
    """Subscribe until a slot is free (the stopped operation gives its slot back as its task
    ends, a moment after the client's ``complete``)."""
    attempt, give_up = 0, asyncio.get_running_loop().time() + PATIENCE
    while True:
        answer = await _subscribe(ws, f"{name}{attempt}", command)
        if answer["type"] == "next" or asyncio.get_running_loop().time() > give_up:
            return answer
        attempt += 1
        await asyncio.sleep(0.1)


async def test_the_cap_is_per_caller_and_counts_every_transport(world: World) -> None:
    delivery, partner = world.caller(Role.DELIVERY), world.caller(Role.PARTNER)
    command = await own_command(world, Role.DELIVERY)
    partners = await own_command(world, Role.PARTNER)
    async with capped(world) as url:
        async with socket_of(url, delivery.key) as ws:
            for n in range(CAP):
                assert (await _subscribe(ws, f"s{n}", command))["type"] == "next"
            status, body = await _sse_status(url, delivery.key, command)
            assert status == 429, body
            assert body["errors"][0]["extensions"]["code"] == TOO_MANY
            assert body["errors"][0]["extensions"]["max"] == CAP
            assert (await _sse_status(url, partner.key, partners))[0] == 200  # its own cap
        status, first = await _until_sse(url, delivery.key, command)  # the socket closed
    assert status == 200 and first[0] == "next", first


async def _until_sse(url: str, key: str, command: str) -> tuple[int, Any]:
    give_up = asyncio.get_running_loop().time() + PATIENCE
    while True:
        status, body = await _sse_status(url, key, command)
        if status == 200 or asyncio.get_running_loop().time() > give_up:
            return status, body
        await asyncio.sleep(0.1)


async def test_over_sse_the_cap_is_a_429_until_a_stream_ends(world: World) -> None:
    delivery = world.caller(Role.DELIVERY)
    command = await own_command(world, Role.DELIVERY)
    headers = {"Accept": "text/event-stream", **bearer(delivery.key)}
    body = {"query": FOLLOW_COMMAND, "variables": {"id": command}}
    async with capped(world) as url, httpx.AsyncClient(timeout=10) as client:
        held = [client.stream("POST", url, json=body, headers=headers) for _ in range(CAP)]
        lines = []  # kept: a line iterator left behind closes its connection
        for response in [await h.__aenter__() for h in held]:
            assert response.status_code == 200
            lines.append(response.aiter_lines())
            assert await anext(lines[-1]) == "event: next"
        status, refusal = await _sse_status(url, delivery.key, command)
        assert status == 429, refusal
        assert [e["extensions"]["code"] for e in refusal["errors"]] == [TOO_MANY]
        async with stream(url, delivery.key, "{ freshness { status } }") as query:
            assert query.status_code == 200  # a query over SSE is not counted
        await held[0].__aexit__(None, None, None)  # the client leaves one stream
        status, first = await _until_sse(url, delivery.key, command)
        assert status == 200, first
        await held[1].__aexit__(None, None, None)


async def test_in_single_connection_mode_the_cap_is_a_429_until_one_is_stopped(
    world: World,
) -> None:
    from tests.access.test_sse_single import event_stream, reserve, send

    key = world.caller(Role.DELIVERY).key
    command = await own_command(world, Role.DELIVERY)
    variables = {"id": command}
    async with capped(world) as url, httpx.AsyncClient(timeout=10) as client:
        token = await reserve(client, url, key)
        async with event_stream(client, url, key, token):
            for n in range(CAP):
                sent = await send(client, url, key, token, f"s{n}", FOLLOW_COMMAND, variables)
                assert sent.status_code == 202, sent.text
            over = await send(client, url, key, token, "over", FOLLOW_COMMAND, variables)
            assert over.status_code == 429, over.text
            assert [e["extensions"]["code"] for e in over.json()["errors"]] == [TOO_MANY]
            headers = {**bearer(key), "X-GraphQL-Event-Stream-Token": token}
            await client.delete(url, params={"operationId": "s0"}, headers=headers)
            again = await send(client, url, key, token, "again", FOLLOW_COMMAND, variables)
            assert again.status_code == 202, again.text  # DELETE gave its slot back
        async with socket_of(url, key) as ws:  # the stream closed: its operations' slots too
            answers = [await _until_next(ws, command, f"n{n}-") for n in range(CAP)]
    assert [a["type"] for a in answers] == ["next"] * CAP
