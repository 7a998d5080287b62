"""What is not a GraphQL request gets a typed 4xx in GraphQL's error shape, never a 500.

Through the real app over HTTP (httpx's ASGI transport), as an anonymous admin
(tests/conftest.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import http_client
from tests.gateway.edge import edge_app

JSON = {"content-type": "application/json"}


def bad_request(response: httpx.Response, status: int = 400) -> str:
    """The message of a refusal, after checking its status, shape and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'"x"', "got str"),
        (b"null", "got null"),
        (b"5", "got int"),
        (b"true", "got bool"),
        (b"[]", "batched requests are not served"),
        (b'[{"query": "{ __typename }"}]', "batched requests are not served"),
        (b'{"query": "{ __typename }"', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "`variables` must be an object"),
        (b'{"query": "{ __typename }", "operationName": 5}', "operationName must be a string"),
        (b'{"variables": {}}', 'no "query"'),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_400(
    engine: AsyncEngine, body: bytes, says: str
) -> None:
    async with edge_app(engine) as app, http_client(app) as client:
        response = await client.post("/graphql", content=body, headers=JSON)
    assert says in bad_request(response)


async def test_a_good_request_still_runs(engine: AsyncEngine) -> None:
    async with edge_app(engine) as app, http_client(app) as client:
        post = await client.post("/graphql", json={"query": "{ __typename }"})
        get = await client.get("/graphql", params={"query": "{ __typename }"})
    for response in (post, get):
        assert response.status_code == 200
        assert response.json()["data"] == {"__typename": "Query"}


async def test_a_subscription_over_http_is_400_not_500(engine: AsyncEngine) -> None:
    query = 'subscription { commandUpdated(id: "Q29tbWFuZDox") { state } }'
    async with edge_app(engine) as app, http_client(app) as client:
        post = await client.post("/graphql", json={"query": query})
        get = await client.get("/graphql", params={"query": query})
    for response in (post, get):
        assert "served over WebSocket" in bad_request(response)


async def test_a_mutation_over_get_is_405_and_runs_nothing(engine: AsyncEngine) -> None:
    query = 'mutation { cancelCommand(id: "Q29tbWFuZDox") { __typename } }'
    async with edge_app(engine) as app, http_client(app) as client:
        response = await client.get("/graphql", params={"query": query})
    assert "need POST" in bad_request(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"query": "{ __typename }", "variables": "{nope"}, "not valid JSON"),
        ({"query": "{ __typename }", "variables": "[1, 2]"}, "got a list"),
        ({"query": "{ __typename }", "variables": "7"}, "got int"),
        ({"query": "{ __typename }", "extensions": "%FF"}, "not valid JSON"),
        ({"query": "{ __typename }", "operationName": "Nope"}, 'Unknown operation named "Nope"'),
    ],
)
async def test_get_parameters_that_are_not_json_objects_are_400(
    engine: AsyncEngine, params: dict[str, str], says: str
) -> None:
    async with edge_app(engine) as app, http_client(app) as client:
        response = await client.get("/graphql", params=params)
    assert says in bad_request(response)
