"""What an attacker or a careless client sends, and the typed answers it gets.

Every case here was a 500 or an internal error once (issue 13): out-of-range and
non-canonical ids, cursors and dates, huge filter text, and the same refusals over the socket.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from readmodel.db import create_engine
from resolvers.ids import to_global_id
from resolvers.pagination import CURSOR_VERSION
from tests.conftest import Firm, error_codes, fresh_database, graphql, http_client, running_app
from tests.gateway.sockets import socket_messages


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


NOT_IDS = [
    b64("Account: 1"),  # a space
    b64("Account:١٢"),  # Arabic-Indic digits: int() takes them
    b64("Account:+1"),
    b64("Account:01"),
    b64(f"Account:{2**63}"),  # past BIGINT
    b64(f"Account:{10**40}"),
    to_global_id("Account", 1) + "==",  # padded: another spelling of the same id
    "x" * 10_000,
]


@pytest.mark.parametrize("bad", NOT_IDS)
async def test_only_canonical_ids_decode(firm: Firm, bad: str) -> None:
    query = "query($id: ID!) { account(id: $id) { name } node(id: $id) { id } }"
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await client.post("/graphql", json={"query": query, "variables": {"id": bad}})
    assert body.status_code == 200
    assert error_codes(body.json()) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert bad[:100] not in body.text or len(bad) <= 64  # a huge id is not echoed whole


def cursor(ordering: str, key: list[Any]) -> str:
    return b64(json.dumps([CURSOR_VERSION, ordering, key]))


@pytest.mark.parametrize(
    "after",
    [
        cursor("account:name", ["Acme", 2**63]),
        cursor("account:name", ["Acme", -(2**70)]),
        cursor("account:name", ["x" * 5000, 1]),
        cursor("account:name", [None, 1]),
        cursor("account:name", ["Acme", 1.5]),
    ],
)
async def test_cursors_out_of_range_are_bad_input(firm: Firm, after: str) -> None:
    query = "query($after: String) { accounts(after: $after) { totalCount } }"
    async with running_app(firm.url) as app, http_client(app) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"after": after}}
        )
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_commands_cursor_and_token_out_of_range(firm: Firm) -> None:
    query = "query($after: String) { commands(after: $after) { totalCount } }"
    big = cursor("command:newest", [2**64])
    async with running_app(firm.url) as app, http_client(app) as client:
        paged = await client.post("/graphql", json={"query": query, "variables": {"after": big}})
        token = b64(f"ct1:{2**64}")
        waited = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"X-Consistency-Token": token},
        )
    assert error_codes(paged.json()) == ["BAD_USER_INPUT"]
    assert waited.status_code == 200
    assert waited.json()["extensions"]["freshness"]["consistency"]["reached"] is False


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ portfolio(periodEnd: "0001-01-01") { billableHours } }', "periodEnd"),
        ('{ portfolio(periodStart: "9999-12-31") { billableHours } }', "periodStart"),
        ('{ invoices(filter: {issuedFrom: "0001-01-01"}) { totalCount } }', "filter.issuedFrom"),
    ],
)
async def test_dates_the_read_model_cannot_hold_are_bad_input(
    firm: Firm, query: str, argument: str
) -> None:
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await graphql(client, query)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == argument


async def test_filter_text_is_bounded(firm: Firm) -> None:
    query = "query($t: String) { accounts(filter: {nameContains: $t}) { totalCount } }"
    async with running_app(firm.url) as app, http_client(app) as client:
        long = await client.post(
            "/graphql", json={"query": query, "variables": {"t": "%_" * 25_000}}
        )
        fine = await client.post("/graphql", json={"query": query, "variables": {"t": "%_"}})
    assert error_codes(long.json()) == ["BAD_USER_INPUT"]
    assert fine.json()["data"]["accounts"]["totalCount"] == 0  # % and _ are literal


async def test_introspection_and_suggestions_are_for_internal_roles(firm: Firm) -> None:
    from tests.gateway.test_authentication import new_key

    introspect = "{ __schema { queryType { name } } }"
    typo = "{ acounts { totalCount } }"
    partner = await new_key(firm.engine, "partner", accounts=[])
    finance = await new_key(firm.engine, "finance")
    answers: dict[str, list[dict[str, Any]]] = {}
    async with running_app(firm.url) as app, http_client(app) as client:
        app.state.settings.auth.anonymous_role = None
        for name, key in (("partner", partner), ("finance", finance)):
            headers = {"Authorization": f"Bearer {key}"}
            answers[name] = [
                (await client.post("/graphql", json={"query": q}, headers=headers)).json()
                for q in (introspect, typo, "{ __typename }")
            ]
    p_schema, p_typo, p_name = answers["partner"]
    f_schema, f_typo, _ = answers["finance"]
    assert error_codes(p_schema) == ["FORBIDDEN"]
    assert f_schema["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean" not in p_typo["errors"][0]["message"]
    assert "Did you mean" in f_typo["errors"][0]["message"]
    assert p_name["data"] == {"__typename": "Query"}


async def test_a_request_past_its_deadline_is_stopped(firm: Firm) -> None:
    query = "{ accounts(first: 100) { nodes { health { score } projects { hoursLogged } } } }"
    app_running = running_app(firm.url, request_timeout_seconds=0.001)
    async with app_running as app, http_client(app) as client:
        body = await graphql(client, query)
    assert error_codes(body) == ["REQUEST_TIMEOUT"]
    assert body["data"] is None


async def test_postgresql_cancels_a_statement_past_the_deadline(tmp_path: Path) -> None:
    # PostgreSQL only: SQLite has no server-side statement timeout (the deadline still holds)
    async with fresh_database("postgresql", tmp_path) as url:
        # 1 s, not less: the driver's own first statements on a connection run under the
        # same timeout, and on a loaded machine they can take a few hundred milliseconds
        engine = create_engine(url, statement_timeout_ms=1000)
        try:
            async with engine.connect() as conn:
                with pytest.raises(DBAPIError, match="statement timeout"):
                    await conn.execute(text("SELECT pg_sleep(10)"))
        finally:
            await engine.dispose()


async def _socket_messages(app: Any, queries: list[str], init: dict[str, Any]) -> list[Any]:
    return await socket_messages(app, init, [{"query": q} for q in queries])


async def test_the_socket_answers_refusals_with_codes_and_keeps_going(firm: Firm) -> None:
    queries = [
        "{ accounts { ",
        "{ nope }",
        "{ " + " ".join(f"a{n}: __typename" for n in range(40)) + " }",
        "{ accounts(first: 1) { totalCount } }",
    ]
    async with running_app(firm.url) as app:
        seen = await _socket_messages(app, queries, {})
    errors = [m for m in seen if m["type"] == "error"]
    assert [e["payload"][0]["extensions"]["code"] for e in errors] == [
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "QUERY_TOO_COMPLEX",
    ]
    last = [m for m in seen if m["id"] == "3"]
    assert last[0]["type"] == "next" and last[0]["payload"]["data"]["accounts"]["totalCount"] > 0
    assert last[1] == {"id": "3", "type": "complete"}


async def test_the_socket_masks_like_http(firm: Firm) -> None:
    from tests.gateway.test_authentication import new_key

    key = await new_key(firm.engine, "delivery")
    query = "{ projects(first: 2) { nodes { code costToDate { amount } } } }"
    async with running_app(firm.url) as app:
        app.state.settings.auth.anonymous_role = None
        async with http_client(app) as client:
            over_http = (
                await client.post(
                    "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}
                )
            ).json()
        seen = await _socket_messages(app, [query], {"Authorization": f"Bearer {key}"})
    payload = seen[0]["payload"]
    assert payload["data"] == over_http["data"]
    assert (
        payload["extensions"]["masked"]
        == over_http["extensions"]["masked"]
        == ["projects.nodes.costToDate"]
    )
