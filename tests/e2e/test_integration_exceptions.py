"""Integration exceptions through GraphQL over HTTP: list, filter, page, typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from sync_jobs.exceptions import ORPHANED, Problem, record, resolve
from tests.conftest import BACKENDS, error_codes, graphql, http_client, migrated_engine, running_app
from tests.sync_jobs.test_apply import NOW
from tests.sync_jobs.test_identity import crm, crm_account, customer, pull

LIST = """
query List($first: Int, $after: String, $filter: IntegrationExceptionFilter) {
  integrationExceptions(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id kind system objectType sourceId message details status
            firstSeenAt lastSeenAt resolvedAt }
  }
}
"""
TRYTON_ORPHANS = 5


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A read model where sync met 2 identity problems and 5 orphans (1 since resolved).

    Shared by this module's tests, which only read it.
    """
    async with migrated_engine(str(request.param), tmp_path_factory.mktemp("exc")) as engine:
        await _given_exceptions(engine)
        yield engine


async def _given_exceptions(engine: AsyncEngine) -> None:
    await crm(engine, crm_account("001G1", "Globex GmbH"), crm_account("001G2", "Globex LLC"))
    await pull(engine, "netsuite", "customer", customer("C4", "Globex"), customer("C5", "Initech"))
    orphans = [
        Problem(ORPHANED, "tryton", "invoice", f"INV{i}", f"invoice INV{i} waits")
        for i in range(TRYTON_ORPHANS)
    ]
    async with engine.begin() as conn:
        await record(conn, orphans, NOW + timedelta(minutes=1))
        at = NOW + timedelta(minutes=2)
        await resolve(conn, "tryton", ["INV0"], (ORPHANED,), at, object_type="invoice")


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(url_of(engine)) as app, http_client(app) as c:
        yield c


async def listing(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await graphql(client, LIST, variables)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["integrationExceptions"]
    return page


async def test_every_exception_is_listed_newest_first(client: httpx.AsyncClient) -> None:
    page = await listing(client)

    assert page["totalCount"] == 2 + TRYTON_ORPHANS
    assert [n["sourceId"] for n in page["nodes"]] == [
        *(f"INV{i}" for i in reversed(range(TRYTON_ORPHANS))),
        "C5",
        "C4",
    ]
    globex = page["nodes"][-1]
    assert (globex["kind"], globex["system"], globex["status"]) == (
        "identity_ambiguous",
        "netsuite",
        "OPEN",
    )
    assert globex["objectType"] == "customer" and "Globex" in globex["message"]
    assert sorted(c["sourceId"] for c in globex["details"]["candidates"]) == ["001G1", "001G2"]
    assert globex["firstSeenAt"] == globex["lastSeenAt"] == "2026-06-30T12:00:00+00:00"
    solved = page["nodes"][TRYTON_ORPHANS - 1]
    assert (solved["sourceId"], solved["status"]) == ("INV0", "RESOLVED")
    assert solved["resolvedAt"] == "2026-06-30T12:02:00+00:00"


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    open_only = await listing(client, filter={"status": ["OPEN"]})
    netsuite = await listing(client, filter={"system": ["netsuite"]})
    unmatched = await listing(
        client, filter={"kind": ["identity_unmatched"], "system": ["netsuite", "tryton"]}
    )
    resolved_tryton = await listing(client, filter={"status": ["RESOLVED"], "system": ["tryton"]})

    assert open_only["totalCount"] == 1 + TRYTON_ORPHANS
    assert all(n["status"] == "OPEN" for n in open_only["nodes"])
    assert {n["sourceId"] for n in netsuite["nodes"]} == {"C4", "C5"}
    assert [n["sourceId"] for n in unmatched["nodes"]] == ["C5"]
    assert [n["sourceId"] for n in resolved_tryton["nodes"]] == ["INV0"]


async def test_paging_walks_every_exception_once(client: httpx.AsyncClient) -> None:
    seen, after, pages = [], None, 0
    while True:
        page = await listing(client, first=2, after=after)
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == 4 and len(seen) == len(set(seen)) == 2 + TRYTON_ORPHANS


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"filter": {"status": []}}, "filter.status"),
    ({"filter": {"system": []}}, "filter.system"),
    ({"filter": {"kind": []}}, "filter.kind"),
    ({"first": 1000}, "first"),
    ({"after": "bm90LWEtY3Vyc29y"}, "after"),
]


async def test_bad_input_is_a_typed_error(client: httpx.AsyncClient) -> None:
    for variables, argument in BAD_INPUT:
        body = await graphql(client, LIST, variables)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables
        assert body["errors"][0]["extensions"]["argument"] == argument
        assert body["data"] is None

    unknown = await graphql(client, LIST, {"filter": {"status": ["PENDING"]}})
    assert error_codes(unknown) == ["BAD_USER_INPUT"]  # a variable that does not coerce


async def test_kind_is_an_enum_with_the_words_it_always_was(client: httpx.AsyncClient) -> None:
    bare = await graphql(
        client,
        "{ integrationExceptions(filter: {kind: [identity_ambiguous], system: [netsuite]}) "
        "{ nodes { kind system sourceId } } }",
    )
    quoted = await graphql(
        client, '{ integrationExceptions(filter: {kind: ["orphaned"]}) { totalCount } }'
    )
    unknown = await graphql(client, LIST, {"filter": {"kind": ["no_such_kind"]}})
    orphans = await listing(client, filter={"kind": ["orphaned"]})

    assert bare["data"]["integrationExceptions"]["nodes"] == [
        {"kind": "identity_ambiguous", "system": "netsuite", "sourceId": "C4"}
    ]
    assert error_codes(quoted) == ["GRAPHQL_VALIDATION_FAILED"]
    assert error_codes(unknown) == ["BAD_USER_INPUT"]
    assert orphans["totalCount"] == TRYTON_ORPHANS
    assert {n["kind"] for n in orphans["nodes"]} == {"orphaned"}


async def test_the_list_costs_the_same_statements_for_2_or_7_items(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async def statements_for(first: int) -> int:
        async with running_app(url_of(engine)) as app, http_client(app) as fresh:
            seen = count_statements(app.state.engine)
            page = await listing(fresh, first=first)
        assert len(page["nodes"]) == first
        return len(seen)

    # page + count + the sync_state read behind every answer's extensions.freshness
    assert await statements_for(2) == await statements_for(2 + TRYTON_ORPHANS) == 3
