"""Bad input gets a typed GraphQL error: never an HTTP 500, never a stack trace."""

from __future__ import annotations

import httpx
import pytest

from resolvers.ids import to_global_id
from tests.conftest import error_codes, gateway_client, graphql

BAD_ARGUMENTS = [
    ('{ account(id: "nonsense") { id } }', "BAD_USER_INPUT"),
    ('{ node(id: "QWNjb3VudDp4") { id } }', "BAD_USER_INPUT"),
    (f'{{ account(id: "{to_global_id("Invoice", 1)}") {{ id }} }}', "BAD_USER_INPUT"),
    (f'{{ project(id: "{to_global_id("Project", 10**9)}") {{ id }} }}', "NOT_FOUND"),
    (f'{{ node(id: "{to_global_id("Payment", 10**9)}") {{ id }} }}', "NOT_FOUND"),
    ("{ accounts(first: 101) { totalCount } }", "BAD_USER_INPUT"),
    ("{ accounts(first: -1) { totalCount } }", "BAD_USER_INPUT"),
    ('{ accounts(after: "bm90LWEtY3Vyc29y") { totalCount } }', "BAD_USER_INPUT"),
    ('{ accounts(filter: {currency: "usd"}) { totalCount } }', "BAD_USER_INPUT"),
    ("{ accounts(filter: {status: []}) { totalCount } }", "BAD_USER_INPUT"),
    ('{ accounts(filter: {parentId: "x"}) { totalCount } }', "BAD_USER_INPUT"),
    (
        '{ invoices(filter: {issuedFrom: "2026-05-01", issuedTo: "2026-04-01"}) { totalCount } }',
        "BAD_USER_INPUT",
    ),
    (
        '{ invoices(filter: {issuedFrom: "not-a-date"}) { totalCount } }',
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("{ invoices(filter: {status: [UNKNOWN]}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
    (
        '{ portfolio(periodStart: "2026-06-01", periodEnd: "2026-05-01") { utilization } }',
        "BAD_USER_INPUT",
    ),
    ("{ accounts { nope } }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ accounts { ", "GRAPHQL_PARSE_FAILED"),
]


@pytest.mark.parametrize(("query", "code"), BAD_ARGUMENTS)
async def test_bad_input_is_a_typed_error(client: httpx.AsyncClient, query: str, code: str) -> None:
    body = await graphql(client, query)
    assert error_codes(body) == [code], body
    assert "Traceback" not in str(body) and "sqlalchemy" not in str(body).lower()


async def test_a_cursor_from_another_ordering_is_refused(client: httpx.AsyncClient) -> None:
    page = await graphql(client, "{ accounts(first: 2) { pageInfo { endCursor } } }")
    cursor = page["data"]["accounts"]["pageInfo"]["endCursor"]
    body = await graphql(
        client,
        "query($after: String) { accounts(after: $after, orderBy: {direction: DESC}) "
        "{ totalCount } }",
        {"after": cursor},
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    projects = await graphql(
        client,
        "query($after: String) { projects(after: $after) { totalCount } }",
        {"after": cursor},
    )
    assert error_codes(projects) == ["BAD_USER_INPUT"]


async def test_deep_queries_are_refused(client: httpx.AsyncClient) -> None:
    nested = "parent { " * 12 + "id" + " }" * 12
    body = await graphql(client, f"{{ accounts(first: 1) {{ nodes {{ {nested} }} }} }}")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_malformed_http_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


async def test_an_internal_failure_is_masked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"
    async with gateway_client(url) as c:
        body = await graphql(c, "{ accounts(first: 1) { totalCount } }")
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "Internal server error"
    assert "no such table" not in str(body)


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": b"", "headers": {"content-type": "application/json"}},
        {"json": [1, 2]},
        {"json": {"variables": {}}},
        {"json": {"query": 5}},
        {"content": b"{ accounts { totalCount } }", "headers": {"content-type": "text/plain"}},
    ],
    ids=["empty", "batch", "no-query", "query-not-string", "wrong-content-type"],
)
async def test_malformed_requests_are_400(client: httpx.AsyncClient, request_kwargs: dict) -> None:
    response = await client.post("/graphql", **request_kwargs)
    assert response.status_code == 400


async def test_a_variable_of_the_wrong_type_is_a_typed_error(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client, "query($f: Int) { accounts(first: $f) { totalCount } }", {"f": "ten"}
    )
    literal = await graphql(client, '{ accounts(first: "ten") { totalCount } }')
    missing = await graphql(client, "query($id: ID!) { account(id: $id) { id } }", {})

    assert error_codes(body) == ["BAD_USER_INPUT"]  # the value does not coerce
    assert "$f" in body["errors"][0]["message"] and body.get("data") is None
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    assert error_codes(literal) == ["GRAPHQL_VALIDATION_FAILED"]  # the document itself


async def test_an_internal_failure_is_logged_with_its_cause(
    tmp_path,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"
    with caplog.at_level("ERROR", logger="clientgraph.graphql"):
        async with gateway_client(url) as c:
            await graphql(c, "{ accounts(first: 1) { totalCount } }")
    assert "no such table" in caplog.text
