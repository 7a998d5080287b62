"""Operation limits, checked before anything runs, each refused with a typed code.

Tokens, depth, aliases and cost answer QUERY_TOO_COMPLEX with the limit and the measure in
``extensions``; a document that is not GraphQL answers GRAPHQL_PARSE_FAILED. An operation over
its cost budget runs no resolver and no SQL of its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.db import count_statements
from tests.conftest import FIRM_NOW, Firm, error_codes, graphql, http_client, running_app
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import gid, url_of

ATTACK_PART = (
    "accounts(first: 100) { nodes { projects { timeEntries { id hours } "
    "invoices { payments { id } } } health { score } } }"
)


def _aliases(count: int, part: str = "accounts(first: 1) { totalCount }") -> str:
    return "{ " + " ".join(f"a{n}: {part}" for n in range(count)) + " }"


async def _error(firm: Firm, query: str, **limits: Any) -> dict[str, Any]:
    async with running_app(firm.url, **limits) as app, http_client(app) as client:
        body = await graphql(client, query)
    assert body["data"] is None, body
    assert len(body["errors"]) == 1
    return dict(body["errors"][0])


async def test_a_document_over_the_token_limit_is_too_complex(firm: Firm) -> None:
    error = await _error(firm, _aliases(200), max_tokens=500)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "maximum": 500}


async def test_a_syntax_error_is_a_parse_failure_with_its_location(firm: Firm) -> None:
    error = await _error(firm, "{ accounts { ")
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["locations"] == [{"line": 1, "column": 14}]


async def test_too_deep_and_too_many_aliases_name_their_limit(firm: Firm) -> None:
    deep = "{ accounts { nodes { parent { parent { parent { parent { parent { name } } } } } } } }"
    error = await _error(firm, deep, max_depth=5)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "depth",
        "depth": 7,
        "maximum": 5,
    }
    error = await _error(firm, _aliases(31))
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "aliases",
        "aliases": 31,
        "maximum": 30,
    }


async def test_firm_wide_fields_are_counted_each_time_they_are_selected(firm: Firm) -> None:
    """Sums over the whole firm return few objects, so the cost does not bound them: aliases
    and fragment spreads of them count one each, and the seventh is refused before any SQL."""
    dashboard = (
        "{ portfolio { utilization forecastAccuracy { months } } "
        "forecast { asOf capacity { role } } billingDelays { asOf } "
        "timeAnomalies { periodStart } }"
    )
    seventh = dashboard.replace("{ portfolio", "{ again: forecast { asOf } portfolio")
    spread = (
        "query { ...F a: forecast { asOf } } fragment F on Query { portfolio { utilization "
        "forecastAccuracy { months } } forecast { asOf capacity { role } } billingDelays { asOf } "
        "timeAnomalies { periodStart } }"
    )
    async with running_app(firm.url) as app, http_client(app) as client:
        passes = await graphql(client, dashboard)
        statements = count_statements(app.state.engine)
        await graphql(client, "{ __typename }")
        baseline = len(statements)  # what every answer costs: its freshness extension
        statements.clear()
        refused = [await graphql(client, q) for q in (seventh, spread)]
    assert "errors" not in passes, passes["errors"]
    for body in refused:
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": "firmWideFields",
            "firmWideFields": 7,
            "maximum": 6,
        }
    assert len(statements) == 2 * baseline  # no resolver ran


async def test_introspection_does_not_count_towards_depth(firm: Firm) -> None:
    query = "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }"
    async with running_app(firm.url, max_depth=3) as app, http_client(app) as client:
        body = await graphql(client, query)
    assert "errors" not in body


async def test_a_query_over_its_cost_budget_is_refused_before_any_sql(firm: Firm) -> None:
    async with running_app(firm.url) as app, http_client(app) as client:
        statements = count_statements(app.state.engine)
        await graphql(client, "{ __typename }")
        baseline = len(statements)  # what every answer costs: its freshness extension
        statements.clear()
        body = await graphql(client, _aliases(30, ATTACK_PART))
        spent = len(statements)

    error = body["errors"][0]
    assert body["data"] is None
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "cost"
    assert error["extensions"]["cost"] > error["extensions"]["budget"] == 250_000_000
    assert spent == baseline  # no resolver ran


async def test_the_cost_follows_first_so_a_smaller_page_fits(firm: Firm) -> None:
    big = "{ accounts(first: 100) { nodes { invoices { payments { id } } } } }"
    small = "{ accounts(first: 10) { nodes { invoices(first: 5) { payments(first: 2) { id } } } } }"
    variables = "query($n: Int) { accounts(first: $n) { nodes { invoices { payments { id } } } } }"
    async with running_app(firm.url, max_cost=100_000) as app, http_client(app) as client:
        refused = await graphql(client, big)
        allowed = await graphql(client, small)
        by_variable, fits, again = [
            (await client.post("/graphql", json={"query": variables, "variables": {"n": n}})).json()
            for n in (100, 1, 100)  # the measure is remembered per variables, never reused
        ]
    assert error_codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert refused["errors"][0]["extensions"]["cost"] == 1 + 100 * (1 + 1 + 100 * (1 + 100 * 1))
    assert "errors" not in allowed
    nodes = allowed["data"]["accounts"]["nodes"]
    assert len(nodes) == 10 and all(len(a["invoices"]) <= 5 for a in nodes)
    assert all(len(i["payments"]) <= 2 for a in nodes for i in a["invoices"])
    assert error_codes(by_variable) == error_codes(again) == ["QUERY_TOO_COMPLEX"]
    assert "errors" not in fits


async def test_the_cost_is_of_the_values_execution_will_use(firm: Firm) -> None:
    """``100.0`` for an ``Int`` runs as 100 and a variable's own default runs when none is
    sent: both are measured as what runs, never as the default page size."""
    sent = "query($n: Int) { accounts(first: $n) { nodes { invoices { payments { id } } } } }"
    defaulted = (
        "query($n: Int = 100) { accounts(first: $n) { nodes { invoices { payments { id } } } } }"
    )
    async with running_app(firm.url, max_cost=100_000) as app, http_client(app) as client:
        as_float = await client.post("/graphql", json={"query": sent, "variables": {"n": 100.0}})
        by_default = await client.post("/graphql", json={"query": defaulted})
        fits = await client.post("/graphql", json={"query": defaulted, "variables": {"n": 1}})
    cost = 1 + 100 * (1 + 1 + 100 * (1 + 100 * 1))
    for refused in (as_float.json(), by_default.json()):
        assert error_codes(refused) == ["QUERY_TOO_COMPLEX"]
        assert refused["errors"][0]["extensions"]["cost"] == cost
    assert "errors" not in fits.json()


async def test_a_nested_lists_after_does_not_change_its_cost(firm: Firm) -> None:
    """A page after an item holds at most ``first`` items too: the cost is ``first``'s."""
    plain = "{ accounts(first: 100) { nodes { invoices { payments { id } } } } }"
    after = (
        'query($a: ID) { accounts(first: 100) { nodes { invoices(after: "SW52b2ljZTox") '
        "{ payments(after: $a) { id } } } } }"
    )
    async with running_app(firm.url, max_cost=100_000) as app, http_client(app) as client:
        refused = await graphql(client, plain)
        paged = (await client.post("/graphql", json={"query": after})).json()
    assert error_codes(paged) == ["QUERY_TOO_COMPLEX"]
    assert paged["errors"][0]["extensions"]["cost"] == refused["errors"][0]["extensions"]["cost"]


@pytest.mark.parametrize("first", [-1, 101])
async def test_a_nested_first_out_of_range_is_bad_user_input(firm: Firm, first: int) -> None:
    query = f"{{ accounts(first: 1) {{ nodes {{ invoices(first: {first}) {{ number }} }} }} }}"
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await graphql(client, query)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_nested_first_keeps_each_lists_own_order(firm: Firm) -> None:
    query = """{ accounts(first: 20) { nodes {
        all: invoices { number issueDate }
        two: invoices(first: 2) { number issueDate }
        posted: invoices(status: [POSTED], first: 1) { number status } } } }"""
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await graphql(client, query)
    assert "errors" not in body
    nodes = body["data"]["accounts"]["nodes"]
    assert any(len(a["all"]) > 2 for a in nodes)
    assert any(a["posted"] for a in nodes)
    for account in nodes:
        assert account["two"] == account["all"][:2]
        assert len(account["posted"]) <= 1
        assert all(i["status"] == "POSTED" for i in account["posted"])


async def test_partners_have_a_smaller_budget(engine: AsyncEngine) -> None:
    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        ids["acme"] = await b.account("Acme")

    ids = await build(engine, recipe)
    query = "{ accounts(first: 100) { nodes { invoices { payments { id } } } } }"  # ~1M
    settings = Settings(
        database_url=url_of(engine),
        auth=AuthSettings(anonymous_role=None),
        graphql=GraphQLSettings(
            max_cost=2_000_000,
            role_max_cost={"partner": 500_000},
            trusted_documents_only_roles=[],
        ),
    )
    answers = {}
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app), http_client(app) as client:
        for role in ("finance", "partner"):
            key, _ = await api_keys.create(
                engine, name=role, role=role, now=FIRM_NOW, accounts=[gid("Account", ids["acme"])]
            )
            response = await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}
            )
            answers[role] = response.json()
    assert "errors" not in answers["finance"]
    assert answers["partner"]["errors"][0]["extensions"]["budget"] == 500_000
