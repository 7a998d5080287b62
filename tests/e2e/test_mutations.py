"""The write path end to end: accept over HTTP, follow over WebSocket, read your own write.

The tests play the executor by moving the command's row, as ``apply_command`` would in the
worker process: the gateway must see it through the database, not through memory.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect

from readmodel.tables import SyncState, table_of
from tests.conftest import FIRM_NOW, graphql
from tests.resolvers.commands.world import (
    command_id,
    gid,
    mutation,
    set_status,
    small_firm,
    writable_app,
    writable_gateway,
)

WON = mutation("markOpportunityWon", "MarkOpportunityWonInput")
FOLLOW = "subscription($id: ID!) { commandUpdated(id: $id) { id status attempts } }"
READ = "query($id: ID!) { command(id: $id) { status } }"


async def _win(client: httpx.AsyncClient, ids: dict[str, Any], key: str = "w") -> dict[str, Any]:
    data = {"opportunityId": gid("Opportunity", ids["deal"]), "idempotencyKey": key}
    body = await graphql(client, WON, {"input": data})
    return dict(body["data"]["markOpportunityWon"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(engine: AsyncEngine) -> AsyncIterator[int]:
    """The gateway on a real socket (uvicorn, websockets), for graphql-transport-ws."""
    port = _free_port()
    async with writable_app(engine) as app:
        config = uvicorn.Config(app, port=port, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            yield port
        finally:
            server.should_exit = True
            await task


async def _next(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))


async def test_subscription_delivers_each_status_change_until_final(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with served(engine) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            command = await _win(client, ids)
        key = command_id(command["id"])
        url = f"ws://127.0.0.1:{port}/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init"}))
            assert (await _next(ws))["type"] == "connection_ack"
            subscribe = {"query": FOLLOW, "variables": {"id": command["id"]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            seen = [(await _next(ws))["payload"]["data"]["commandUpdated"]["status"]]
            for status in ("DISPATCHED", "RUNNING", "SUCCEEDED"):
                await set_status(engine, key, status)
                message = await _next(ws)
                seen.append(message["payload"]["data"]["commandUpdated"]["status"])
            done = await _next(ws)

    assert seen == ["ACCEPTED", "DISPATCHED", "RUNNING", "SUCCEEDED"]
    assert done == {"id": "1", "type": "complete"}


async def test_a_token_holds_the_read_until_the_command_succeeds(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine, consistency_wait_seconds=30) as client:
        command = await _win(client, ids)

        async def executor() -> None:
            await asyncio.sleep(0.3)
            await set_status(engine, command_id(command["id"]), "SUCCEEDED")

        flip = asyncio.create_task(executor())
        started = time.monotonic()
        response = await client.post(
            "/graphql",
            json={"query": READ, "variables": {"id": command["id"]}},
            headers={"X-Consistency-Token": command["consistencyToken"]},
        )
        waited = time.monotonic() - started
        await flip

    body = response.json()
    assert body["data"]["command"]["status"] == "SUCCEEDED"
    assert 0.3 <= waited < 10, f"{waited:.2f} s: woken by the success, not the 30 s timeout"
    freshness = body["extensions"]["freshness"]
    assert freshness["stale"] is False and freshness["consistency"]["reached"] is True
    assert 300 <= freshness["consistency"]["waitedMs"] <= waited * 1000 + 1, freshness
    assert freshness["asOf"].startswith("2026-06-30T12:00:00")


async def test_a_token_wait_runs_out_and_says_stale(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine, consistency_wait_seconds=0.3) as client:
        command = await _win(client, ids)
        started = time.monotonic()
        response = await client.post(
            "/graphql",
            json={"query": READ, "variables": {"id": command["id"]}},
            headers={"X-Consistency-Token": command["consistencyToken"]},
        )
        waited = time.monotonic() - started
        bogus = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"X-Consistency-Token": "nope"}
        )
        plain = await graphql(client, "{ __typename }")

    body = response.json()
    assert body["data"]["command"]["status"] == "ACCEPTED"  # answered anyway
    assert 0.3 <= waited < 5, f"{waited:.2f} s: the 0.3 s wait ran out, nothing hung"
    assert body["extensions"]["freshness"]["stale"] is True
    assert body["extensions"]["freshness"]["consistency"]["reached"] is False
    assert bogus.json()["extensions"]["freshness"]["stale"] is True
    assert plain["extensions"]["freshness"] == {
        "asOf": "2026-06-30T12:00:00+00:00",
        "oldestSourceSyncAt": None,
        "behind": [],
        "stale": False,
    }


async def test_an_unreadable_command_log_or_sync_state_answers_at_once_marked_stale(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A token's wait, and freshness, read tables of their own: when one cannot be read the
    answer comes at once (not after the 30 s wait), says so (stale, not reached) and the
    warning names the outage with its traceback."""
    ids = await small_firm(engine)
    async with writable_gateway(engine, consistency_wait_seconds=30) as client:
        token = (await _win(client, ids))["consistencyToken"]
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE command RENAME TO command_away"))
        started = time.monotonic()
        held = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"X-Consistency-Token": token}
        )
        waited = time.monotonic() - started
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE command_away RENAME TO command"))
            await conn.execute(text("ALTER TABLE sync_state RENAME TO sync_state_away"))
        unknown = await graphql(client, "{ __typename }")
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE sync_state_away RENAME TO sync_state"))

    body = held.json()
    assert body["data"] == {"__typename": "Query"}
    assert waited < 10, f"{waited:.2f} s: answered at once, not after the 30 s wait"
    consistency = body["extensions"]["freshness"]["consistency"]
    assert consistency["reached"] is False and body["extensions"]["freshness"]["stale"] is True
    assert 0 <= consistency["waitedMs"] <= waited * 1000 + 1, consistency
    assert unknown["data"] == {"__typename": "Query"}
    assert unknown["extensions"]["freshness"] == {
        "asOf": "2026-06-30T12:00:00+00:00",
        "oldestSourceSyncAt": None,
        "behind": [],
        "stale": True,
    }
    warnings = {r.getMessage(): bool(r.exc_info) for r in caplog.records}  # a traceback
    assert warnings.get("consistency wait skipped: command log unreadable") is True, warnings
    assert warnings.get("freshness unknown: sync_state unreadable") is True, warnings


async def test_freshness_reports_the_oldest_pull(engine: AsyncEngine) -> None:
    hour_ago = FIRM_NOW - timedelta(hours=1)
    async with engine.begin() as conn:
        await conn.execute(
            insert(table_of(SyncState)),
            [
                {"system": "netsuite", "object_type": "job", "last_success_at": hour_ago},
                {"system": "salesforce", "object_type": "opportunity", "last_success_at": FIRM_NOW},
            ],
        )
    async with writable_gateway(engine) as client:
        body = await graphql(client, "{ __typename }")

    freshness = body["extensions"]["freshness"]
    assert freshness["oldestSourceSyncAt"] == hour_ago.isoformat()
    assert freshness["stale"] is True  # an hour is over 3 sync intervals of 30 s
    assert freshness["behind"] == [{"system": "netsuite", "objectType": "job", "status": "STALE"}]


async def test_a_command_is_a_node(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        command = await _win(client, ids)
        body = await graphql(
            client,
            "query($id: ID!) { node(id: $id) { id ... on Command { kind status } } }",
            {"id": command["id"]},
        )
    assert body["data"]["node"] == {
        "id": command["id"],
        "kind": "mark_opportunity_won",
        "status": command["status"],
    }
