"""GraphQL over HTTP's media types: graphql-response+json for clients that ask for it (request
errors 4xx without ``data``), application/json as before for the others; a document with
several operations and no ``operationName`` is a request error.

Through the real app (httpx's ASGI transport) as an anonymous admin (tests/conftest.py); the
whole of graphql-http's audit over a socket is tests/federation/test_http_audit.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.media_types import GRAPHQL_RESPONSE, JSON, answer_type
from resolvers.ids import to_global_id
from tests.conftest import Firm, gateway_client

ASKS = {"accept": GRAPHQL_RESPONSE}
SEVERAL = "query A { __typename } query B { freshness { system } }"


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("text/html", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.9", JSON),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("Application/GraphQL-Response+JSON ; charset=utf-8, */*;q=0.1", GRAPHQL_RESPONSE),
    ],
)
def test_the_answer_type_follows_accept(accept: str | None, answer: str) -> None:
    assert answer_type(accept) == answer


async def _post(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers)


def _request_error(response: httpx.Response, code: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    body = response.json()
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ accounts { "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ accounts { noSuchField } }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query($id: ID!) { account(id: $id) { id } }", "variables": {"id": None}},
         "BAD_USER_INPUT"),
        ({"query": SEVERAL}, "BAD_REQUEST"),
        ({"query": SEVERAL, "operationName": "C"}, "BAD_REQUEST"),
    ],
)  # fmt: skip
async def test_request_errors_are_4xx_without_data(
    firm: Firm, body: dict[str, Any], code: str
) -> None:
    async with gateway_client(firm.url) as client:
        response = await _post(client, body, **ASKS)
    _request_error(response, code)


async def test_an_executed_operation_is_200_with_its_field_errors(firm: Firm) -> None:
    missing = to_global_id("Account", 987_654_321)
    async with gateway_client(firm.url) as client:
        response = await _post(
            client, {"query": f'{{ account(id: "{missing}") {{ id }} }}'}, **ASKS
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert body["data"] == {"account": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_legacy_clients_keep_200_and_data_null(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        parse = await _post(client, {"query": "{ accounts { "})
        several = await _post(client, {"query": SEVERAL}, accept="*/*")
    for response in (parse, several):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"] is None
    assert several.json()["errors"][0]["message"] == (
        "Must provide operation name if query contains multiple operations."
    )


async def test_operation_name_picks_one_of_several(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        response = await _post(client, {"query": SEVERAL, "operationName": "B"}, **ASKS)
        first = await _post(client, {"query": SEVERAL, "operationName": "A"})
    assert response.status_code == 200
    assert "freshness" in response.json()["data"]
    assert first.json()["data"] == {"__typename": "Query"}


async def test_refusals_before_execution_take_the_asked_type(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        not_json = await client.post(
            "/graphql", content=b"{", headers={"content-type": "application/json", **ASKS}
        )
        mutation = await client.get(
            "/graphql", params={"query": "mutation { __typename }"}, headers=ASKS
        )
    _request_error(not_json, "BAD_REQUEST")
    _request_error(mutation, "BAD_REQUEST", status=405)
