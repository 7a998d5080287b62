"""graphql-sse's single connection mode over a real server: a reservation (PUT), its one
event stream, operations multiplexed on it by ``extensions.operationId`` and stopped with
DELETE — with the rules of every other path: credentials, the caller's own token only (another
caller's reads as unknown), the same answers (data, masked paths, codes) as a plain POST."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from clientgraph.access.roles import Role
from resolvers.handoffs.queries import to_handoff_id
from tests.access.generate import graphql_schema, query_documents
from tests.access.oracle import assert_alike
from tests.access.samples import sample_ids
from tests.access.served import served
from tests.access.test_sse import FOLLOW_COMMAND, FOLLOW_HANDOFF, _first_key
from tests.access.test_stream_caps import own_command
from tests.access.world import World, bearer

SCHEMA = graphql_schema()
TOKEN = "X-GraphQL-Event-Stream-Token"
ROLES = (Role.PARTNER, Role.ADMIN)  # scoped and masked, everything
DOCUMENTS = ("projects", "node", "commands", "auditLog", "handoff")
Events = asyncio.Queue[tuple[str, Any]]


async def reserve(client: httpx.AsyncClient, url: str, key: str) -> str:
    response = await client.put(url, headers=bearer(key))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@asynccontextmanager
async def event_stream(
    client: httpx.AsyncClient, url: str, key: str, token: str
) -> AsyncIterator[Events]:
    """The reservation's stream, read in the background: its events as (event, data)."""
    events: Events = asyncio.Queue()
    opened = asyncio.get_running_loop().create_future()

    async def read() -> None:
        headers = {**bearer(key), TOKEN: token, "Accept": "text/event-stream"}
        async with client.stream("GET", url, headers=headers) as response:
            opened.set_result(response.status_code)
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event:
                    await events.put((event, json.loads(line.removeprefix("data:"))))
                    event = ""

    task = asyncio.create_task(read())
    try:
        assert await asyncio.wait_for(opened, 10) == 200
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    token: str,
    op: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}, "extensions": {"operationId": op}}
    return await client.post(url, json=body, headers={**bearer(key), TOKEN: token})


async def _event(events: Events) -> tuple[str, Any]:
    return await asyncio.wait_for(events.get(), 10)


async def test_two_operations_share_one_stream_and_one_is_stopped(world: World) -> None:
    key = world.caller(Role.DELIVERY).key
    command = await own_command(world, Role.DELIVERY)
    async with served(world, "http") as url, httpx.AsyncClient(timeout=10) as client:
        token = await reserve(client, url, key)
        async with event_stream(client, url, key, token) as events:
            variables = {"id": command}
            followed = await send(client, url, key, token, "follow", FOLLOW_COMMAND, variables)
            assert followed.status_code == 202, followed.text
            first = await _event(events)
            asked = await send(client, url, key, token, "ask", "{ freshness { status } }")
            assert asked.status_code == 202, asked.text
            answer, done = await _event(events), await _event(events)
            stopped = await client.delete(
                url, params={"operationId": "follow"}, headers={**bearer(key), TOKEN: token}
            )
            last = await _event(events)
    assert first[0] == "next" and first[1]["id"] == "follow"
    assert first[1]["payload"]["data"] == {"commandUpdated": {"id": command, "status": "ACCEPTED"}}
    assert answer[0] == "next" and answer[1]["id"] == "ask"
    assert "freshness" in answer[1]["payload"]["data"]
    assert done == ("complete", {"id": "ask"})
    assert stopped.status_code == 200
    assert last == ("complete", {"id": "follow"})


async def test_a_token_is_its_callers_only(world: World) -> None:
    delivery, partner = world.caller(Role.DELIVERY).key, world.caller(Role.PARTNER).key
    async with served(world, "http") as url, httpx.AsyncClient(timeout=10) as client:
        token = await reserve(client, url, delivery)
        theirs = await send(client, url, partner, token, "x", "{ freshness { status } }")
        unknown = await send(client, url, partner, "nope", "x", "{ freshness { status } }")
        stream = await client.get(url, headers={**bearer(partner), TOKEN: token})
        stop = await client.delete(
            url, params={"operationId": "x", "token": token}, headers=bearer(partner)
        )
        async with event_stream(client, url, delivery, token):  # still the owner's
            second = await client.get(url, headers={**bearer(delivery), TOKEN: token})
    assert {r.status_code for r in (theirs, unknown, stream, stop)} == {404}
    assert theirs.json() == unknown.json()  # nothing tells the token exists
    assert theirs.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert second.status_code == 409  # one stream per reservation


@pytest.mark.parametrize("key", [None, "cg_nope"], ids=["none", "bad"])
async def test_without_good_credentials_is_401(world: World, key: str | None) -> None:
    headers = bearer(key) if key else {}
    async with served(world, "http") as url, httpx.AsyncClient(timeout=10) as client:
        reservation = await client.put(url, headers=headers)
        operation = await client.post(
            url, json={"query": "{ freshness { status } }"}, headers={**headers, TOKEN: "t"}
        )
    for response in (reservation, operation):
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refusals_before_running_answer_the_post(world: World) -> None:
    partner, delivery = world.caller(Role.PARTNER).key, world.caller(Role.DELIVERY).key
    handoff = to_handoff_id(await _first_key(world, "SELECT min(id) FROM handoff"))
    async with served(world, "http") as url, httpx.AsyncClient(timeout=10) as client:
        token = await reserve(client, url, partner)
        invalid = await send(client, url, partner, token, "a", "subscription { nope }")
        headers = {**bearer(partner), TOKEN: token}
        no_id = await client.post(url, json={"query": "{ freshness { status } }"}, headers=headers)
        forbidden = await send(client, url, partner, token, "b", FOLLOW_HANDOFF, {"id": handoff})
        own = await reserve(client, url, delivery)
        async with event_stream(client, url, delivery, own) as events:
            allowed = await send(client, url, delivery, own, "c", FOLLOW_HANDOFF, {"id": handoff})
            first = await _event(events)
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert no_id.status_code == 400 and "operationId" in no_id.json()["errors"][0]["message"]
    assert forbidden.status_code == 403  # as in the distinct mode and over a socket
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allowed.status_code == 202
    assert first[0] == "next" and first[1]["payload"]["data"]["handoffUpdated"]["id"] == handoff


async def test_a_partner_follows_its_own_commands_only(world: World) -> None:
    partner = world.caller(Role.PARTNER).key
    own = await own_command(world, Role.PARTNER)
    others = await own_command(world, Role.DELIVERY)
    async with served(world, "http") as url, httpx.AsyncClient(timeout=10) as client:
        token = await reserve(client, url, partner)
        async with event_stream(client, url, partner, token) as events:
            await send(client, url, partner, token, "own", FOLLOW_COMMAND, {"id": own})
            followed = await _event(events)
            await send(client, url, partner, token, "other", FOLLOW_COMMAND, {"id": others})
            refused, done = await _event(events), await _event(events)
    assert followed[1]["payload"]["data"]["commandUpdated"]["id"] == own
    assert refused[1]["id"] == "other" and not refused[1]["payload"].get("data")
    assert [e["extensions"]["code"] for e in refused[1]["payload"]["errors"]] == ["NOT_FOUND"]
    assert done == ("complete", {"id": "other"})


@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_the_stream_answers_as_http_does(world: World, role: Role) -> None:
    """The authorization rows of this mode: each document's payload is the plain POST's."""
    caller = world.caller(role)
    documents = [d for d in query_documents(SCHEMA, await sample_ids(world)) if d.root in DOCUMENTS]
    async with served(world, "http") as url, httpx.AsyncClient(timeout=30) as client:
        token = await reserve(client, url, caller.key)
        async with event_stream(client, url, caller.key, token) as events:
            for n, document in enumerate(documents):
                sent = await send(client, url, caller.key, token, str(n), document.text)
                assert sent.status_code == 202, sent.text
                (event, data), done = await _event(events), await _event(events)
                assert (event, data["id"], done) == ("next", str(n), ("complete", {"id": str(n)}))
                over_sse, over_http = data["payload"], await caller.post(document.text)
                where = f"{role} × {document.root}"
                assert_alike(over_sse, over_http, where)


async def test_a_reservation_whose_stream_never_opens_is_dropped_with_its_operations(
    world: World,
) -> None:
    from clientgraph.settings_streams import SubscriptionSettings
    from tests.access.served import served_app
    from tests.access.world import matrix_app

    key = world.caller(Role.DELIVERY).key
    command = await own_command(world, Role.DELIVERY)
    settings = SubscriptionSettings(max_per_caller=1, reservation_seconds=0.5)
    async with (
        matrix_app(world.url, settings) as app,
        served_app(app, "http") as url,
        httpx.AsyncClient(timeout=10) as client,
    ):
        token = await reserve(client, url, key)
        sent = await send(client, url, key, token, "early", FOLLOW_COMMAND, {"id": command})
        assert sent.status_code == 202  # before the stream: its events wait for it
        await asyncio.sleep(0.7)
        again = await reserve(client, url, key)  # the first one expired, so one more fits
        late = await client.get(url, headers={**bearer(key), TOKEN: token})
        await asyncio.sleep(0.1)
        async with event_stream(client, url, key, again) as events:
            follow = await send(client, url, key, again, "f", FOLLOW_COMMAND, {"id": command})
            first = await _event(events)
    assert late.status_code == 404
    assert follow.status_code == 202, follow.text  # the expired operation gave its slot back
    assert first[1]["id"] == "f"
