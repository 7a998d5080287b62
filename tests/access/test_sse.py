"""The same rules over Server-Sent Events (graphql-sse, distinct connections mode): the
credentials of any HTTP request, the same answers (data, masked paths, error codes) as a plain
POST, and the subscriptions follow only what the caller may see."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from clientgraph.access.roles import Role
from resolvers.handoffs.queries import to_handoff_id
from resolvers.ids import to_global_id
from tests.access.generate import graphql_schema, query_documents
from tests.access.oracle import assert_alike
from tests.access.samples import sample_ids
from tests.access.served import served
from tests.access.world import World, bearer

SCHEMA = graphql_schema()
ROLES = (Role.PARTNER, Role.ADMIN)  # scoped and masked, everything (the socket adds finance)
DOCUMENTS = ("projects", "node", "commands", "auditLog", "handoff")
STREAM = {"Accept": "text/event-stream"}
FOLLOW_COMMAND = "subscription($id: ID!) { commandUpdated(id: $id) { id status } }"
FOLLOW_HANDOFF = "subscription($id: ID!) { handoffUpdated(id: $id) { id status steps { name } } }"


async def _events(response: httpx.Response, most: int | None = None) -> list[tuple[str, Any]]:
    """The stream's events as (event, data), up to ``most`` (then the stream is left)."""
    found: list[tuple[str, Any]] = []
    event, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif not line and event:
            found.append((event, json.loads(data) if data else None))
            event, data = "", ""
            if found[-1][0] == "complete" or (most is not None and len(found) >= most):
                break
    return found


@asynccontextmanager
async def stream(
    url: str, key: str | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[httpx.Response]:
    headers = {**STREAM, **(bearer(key) if key else {})}
    body = {"query": query, "variables": variables or {}}
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("POST", url, json=body, headers=headers) as response,
    ):
        yield response


async def _answer(url: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A query's or finished subscription's one ``next``, then ``complete``."""
    async with stream(url, key, query, variables) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await _events(response)
    assert [e for e, _ in events] == ["next", "complete"], events
    return dict(events[0][1])


@pytest.mark.parametrize("key", [None, "cg_nope"], ids=["none", "bad"])
async def test_a_stream_without_good_credentials_is_401(world: World, key: str | None) -> None:
    async with served(world, "http") as url, stream(url, key, FOLLOW_COMMAND) as response:
        body = json.loads(await response.aread())
    assert response.status_code == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_the_stream_answers_as_http_does(world: World, role: Role) -> None:
    caller = world.caller(role)
    documents = [d for d in query_documents(SCHEMA, await sample_ids(world)) if d.root in DOCUMENTS]
    async with served(world, "http") as url:
        for document in documents:
            over_sse = await _answer(url, caller.key, document.text, {})
            over_http = await caller.post(document.text)
            where = f"{role} × {document.root}"
            assert_alike(over_sse, over_http, where)


async def test_a_refused_document_is_a_400_not_a_stream(world: World) -> None:
    key = world.caller(Role.ADMIN).key
    async with served(world, "http") as url:
        async with stream(url, key, "subscription { commandUpdated(") as unparsed:
            parse = json.loads(await unparsed.aread())
        async with stream(url, key, "subscription { nope }") as invalid:
            validation = json.loads(await invalid.aread())
    assert (unparsed.status_code, invalid.status_code) == (400, 400)
    assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert validation["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in validation


async def _first_key(world: World, statement: str, **params: Any) -> int:
    async with world.engine.connect() as conn:
        return int((await conn.execute(text(statement), params)).scalar_one())


async def test_command_updated_follows_own_commands_only(world: World) -> None:
    partner, delivery = world.caller(Role.PARTNER), world.caller(Role.DELIVERY)
    own_sql = "SELECT min(id) FROM command WHERE principal_id = :p"
    own = to_global_id("Command", await _first_key(world, own_sql, p=partner.principal_id))
    other = to_global_id("Command", await _first_key(world, own_sql, p=delivery.principal_id))
    async with served(world, "http") as url:
        async with stream(url, partner.key, FOLLOW_COMMAND, {"id": own}) as followed:
            (first,) = await _events(followed, most=1)  # then the client leaves
        refused = await _answer(url, partner.key, FOLLOW_COMMAND, {"id": other})
    assert first == (
        "next",
        {
            "data": {"commandUpdated": {"id": own, "status": "ACCEPTED"}},
            "extensions": first[1]["extensions"],
        },
    )
    assert not refused.get("data"), refused
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["NOT_FOUND"]


async def test_handoff_updated_is_for_internal_roles(world: World) -> None:
    handoff = to_handoff_id(await _first_key(world, "SELECT min(id) FROM handoff"))
    variables = {"id": handoff}
    async with served(world, "http") as url:
        partner = world.caller(Role.PARTNER).key
        async with stream(url, partner, FOLLOW_HANDOFF, variables) as response:
            refused = json.loads(await response.aread())
        key = world.caller(Role.DELIVERY).key
        async with stream(url, key, FOLLOW_HANDOFF, variables) as followed:
            (first,) = await _events(followed, most=1)
    assert response.status_code == 403  # refused before the stream begins, as over a socket
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    event, payload = first
    assert event == "next" and payload["data"]["handoffUpdated"]["id"] == handoff, first
    assert not payload.get("errors"), payload
