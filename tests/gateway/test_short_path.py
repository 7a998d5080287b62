"""The short path (gateway/short_path.py): a plan the whole pipeline has answered compiled is
answered again without strawberry's per-request machinery — with the pipeline's bytes, and
behind the same guards (authentication, rate limits, trusted documents, limits, row rules).
Every role of the access matrix takes it in tests/access (``ask_twice``); these are its
edges. Each test's documents are its own (the plans and their proofs are the process's)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.metrics import SQL_STATEMENTS, operation_label
from clientgraph.settings import GraphQLSettings
from readmodel import trusted_documents
from readmodel.db import count_statements
from tests.access.compiled import short_path_answers
from tests.conftest import FIRM_NOW, http_client
from tests.gateway.test_authentication import _two_clients, gateway, new_key
from tests.resolvers.commands.world import gid

PAGE = """query Page%s($first: Int) {
  accounts(first: $first) { totalCount nodes { id name invoices(first: 5) { number } } }
}
"""
UNCHANGING = ("date", "traceparent")  # the only headers that differ from answer to answer


async def post(
    client: httpx.AsyncClient, key: str | None, body: dict[str, Any], **headers: str
) -> httpx.Response:
    auth = {} if key is None else {"Authorization": f"Bearer {key}"}
    return await client.post("/graphql", json=body, headers=auth | headers)


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in UNCHANGING}


async def test_a_proven_plan_is_answered_with_the_pipelines_bytes(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    admin = await new_key(engine, "admin")
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    body = {"query": PAGE % "Bytes", "variables": {"first": 10}}
    media = "application/graphql-response+json"
    async with gateway(engine) as app, http_client(app) as client:
        for key, accept in ((admin, "application/json"), (partner, media)):
            before = short_path_answers("answered")
            first = await post(client, key, body, accept=accept)
            assert short_path_answers("answered") == before  # the pipeline's: it proves the plan
            again = await post(client, key, body, accept=accept)
            assert short_path_answers("answered") == before + 1
            assert again.content == first.content and again.status_code == 200
            assert _headers(again) == _headers(first)
            assert again.headers["content-type"].startswith(accept)
        # the partner's rules are a plan of their own: its rows only
        assert again.json()["data"]["accounts"]["totalCount"] == 1
        answered = await post(client, admin, body)
        assert answered.json()["data"]["accounts"]["totalCount"] == 2


async def test_the_guards_before_it_still_hold(engine: AsyncEngine) -> None:
    await _two_clients(engine)
    admin = await new_key(engine, "admin")
    body = {"query": PAGE % "Guards", "variables": {"first": 2}}
    limits = GraphQLSettings(trusted_documents_only_roles=[], max_cost=60)
    async with gateway(engine, graphql=limits) as app, http_client(app) as client:
        await post(client, admin, body)  # proven
        before = {o: short_path_answers(o) for o in ("answered", "pipeline")}
        nobody = await post(client, None, body)
        revoked_like = await post(client, "cg_not-a-key", body)
        over = await post(client, admin, {**body, "variables": {"first": 50}})
        wrong = await post(client, admin, {**body, "variables": {"first": "two"}})
        twin = {"query": PAGE % "Guardz", "variables": {"first": "two"}}  # never proven
        pipeline = await post(client, admin, twin)
        token = await post(client, admin, body, **{"x-consistency-token": "nonsense"})
        extended = await post(client, admin, {**body, "extensions": {}})
        by_get = await client.get(
            "/graphql",
            params={"query": body["query"], "variables": '{"first": 2}'},
            headers={"Authorization": f"Bearer {admin}"},
        )
        answered = await post(client, admin, body)
    assert (nobody.status_code, revoked_like.status_code) == (401, 401)
    assert over.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert over.json()["errors"][0]["extensions"]["limit"] == "cost"
    assert (wrong.status_code, wrong.json()) == (pipeline.status_code, pipeline.json())
    assert "errors" in wrong.json()
    assert token.json()["extensions"]["freshness"]["consistency"]["reached"] is False
    for ran in (token, extended, by_get, answered):
        assert ran.json()["data"]["accounts"]["totalCount"] == 2, ran.text
    # the limit was over before the statement; the variable refused when bound; the others
    # never asked the short path (a token, extensions, GET); the last one was answered by it
    assert short_path_answers("pipeline") - before["pipeline"] == 2
    assert short_path_answers("answered") - before["answered"] == 1


async def test_a_proven_plan_never_opens_a_door_the_pipeline_keeps_shut(
    engine: AsyncEngine,
) -> None:
    """A partner held to registered documents proves a plan by its documentId; the same text
    sent as a query is the pipeline's to judge (it refuses unregistered text), never the
    short path's; and the plan of one set of rows is never another's."""
    ids = await _two_clients(engine)
    query = PAGE % "Trusted"
    digest = await trusted_documents.register(engine, query, name="page", now=FIRM_NOW)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    other = await new_key(engine, "partner", accounts=[gid("Account", ids["globex"])])
    trusted = GraphQLSettings(trusted_documents_only_roles=["partner"])
    variables = {"first": 10}
    async with gateway(engine, graphql=trusted) as app, http_client(app) as client:
        by_id = await post(
            client, partner, {"documentId": f"sha256:{digest}", "variables": variables}
        )
        before = short_path_answers("answered")
        by_text = await post(client, partner, {"query": query, "variables": variables})
        unregistered = await post(client, partner, {"query": query + " ", "variables": variables})
        theirs = await post(client, other, {"query": query, "variables": variables})
    assert short_path_answers("answered") == before  # a role held to documents never takes it
    assert by_id.json()["data"] == by_text.json()["data"]
    assert [n["name"] for n in by_text.json()["data"]["accounts"]["nodes"]] == ["Acme"]
    assert unregistered.status_code == 403
    assert [n["name"] for n in theirs.json()["data"]["accounts"]["nodes"]] == ["Globex"]


async def test_its_answers_are_counted_under_their_operation(engine: AsyncEngine) -> None:
    """/metrics' latency and statements per operation count a short answer like any other:
    one statement (the plan's, or a hit's counters' read without the counters' lease;
    freshness comes with it)."""
    await _two_clients(engine)
    admin = await new_key(engine, "admin")
    body = {"query": PAGE % "Counted", "variables": {"first": 1}}
    label = {"operation": operation_label("PageCounted")}

    def statements() -> tuple[float, float]:
        total = REGISTRY.get_sample_value(f"{SQL_STATEMENTS._name}_sum", label) or 0.0
        count = REGISTRY.get_sample_value(f"{SQL_STATEMENTS._name}_count", label) or 0.0
        return total, count

    lease_off = GraphQLSettings(trusted_documents_only_roles=[], response_cache_lease=False)
    async with gateway(engine, graphql=lease_off) as app, http_client(app) as client:
        await post(client, admin, body)
        before, answered = statements(), short_path_answers("answered")
        await post(client, admin, body)
        await post(client, admin, body)
    assert short_path_answers("answered") == answered + 2
    total, count = statements()
    assert (total - before[0], count - before[1]) == (2.0, 2.0)


ONE = "query One%s($id: ID!) { account(id: $id) { name } }"


async def test_values_it_cannot_answer_cost_no_second_statement(engine: AsyncEngine) -> None:
    """A proven plan asked for a record that is not there: the statement says the per-field
    path must answer (NOT_FOUND is its), and the pipeline does so without running the
    statement again — as many statements as when the pipeline alone answers — and the proof
    stays for the next caller."""
    ids = await _two_clients(engine)
    admin = await new_key(engine, "admin")
    missing = gid("Account", 10**6)
    async with gateway(engine) as app, http_client(app) as client:
        seen = count_statements(app.state.engine)
        await post(
            client, admin, {"query": ONE % "Late", "variables": {"id": gid("Account", ids["acme"])}}
        )
        seen.clear()
        late = await post(client, admin, {"query": ONE % "Late", "variables": {"id": missing}})
        by_short_path = len(seen)
        seen.clear()
        alone = await post(client, admin, {"query": ONE % "Latf", "variables": {"id": missing}})
        by_pipeline = len(seen)
        before = short_path_answers("answered")
        found = await post(
            client, admin, {"query": ONE % "Late", "variables": {"id": gid("Account", ids["acme"])}}
        )
    assert late.json() == alone.json()
    assert late.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert by_short_path == by_pipeline
    assert (
        short_path_answers("answered") == before + 1
        and found.json()["data"]["account"]["name"] == "Acme"
    )


AFTER = "query After%s($after: String) { accounts(first: 5, after: $after) { nodes { name } } }"


async def test_a_cursor_nested_too_deep_is_refused_as_a_bad_cursor(engine: AsyncEngine) -> None:
    """A cursor whose JSON nests thousands deep (``RecursionError`` in its decoding) is a bad
    cursor, answered by the pipeline with its error, never a 500 from the short path's
    binding (found in review: binding ran outside the statement's guard)."""
    await _two_clients(engine)
    admin = await new_key(engine, "admin")
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
    async with gateway(engine) as app, http_client(app) as client:
        for _ in range(2):  # proven, then the short path's
            ok = await post(client, admin, {"query": AFTER % "Deep", "variables": {}})
            assert ok.json()["data"]["accounts"]["nodes"]
        refused = await post(client, admin, {"query": AFTER % "Deep", "variables": {"after": deep}})
        alone = await post(client, admin, {"query": AFTER % "Deeq", "variables": {"after": deep}})
    assert refused.status_code == 200 and refused.json() == alone.json()
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
