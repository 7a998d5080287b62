"""The schema as an Apollo Federation v2 subgraph: ``_service { sdl }`` and ``_entities``.

References resolve through the request's loaders: one SQL statement per type however many
representations, nulls for what names nothing. (Access per role: tests/access/test_entities.py;
composition and a real Apollo gateway: tests/federation/.)
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from readmodel.db import count_statements
from resolvers.ids import to_global_id
from schema.export import sdl
from tests.conftest import Firm, graphql, http_client, running_app

FROM = re.compile(r"\bFROM (\w+)")
KEYED = ("Account", "Opportunity", "Engagement", "Project", "Invoice", "Person")
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename ... on Account { id name } ... on Project { id code } ... on Person { id } } }"""


async def _keys(firm: Firm, table: str, limit: int) -> list[int]:
    async with firm.engine.connect() as conn:
        sql = f"SELECT id FROM {table} ORDER BY id LIMIT {limit}"
        return [int(r[0]) for r in await conn.execute(text(sql))]


def _refs(type_name: str, keys: list[int]) -> list[dict[str, Any]]:
    return [{"__typename": type_name, "id": to_global_id(type_name, k)} for k in keys]


async def test_the_subgraph_sdl_keys_each_entity_by_its_global_id(firm: Firm) -> None:
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await graphql(client, "{ _service { sdl } }")
    served = body["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])' in served
    for name in KEYED:
        assert f'type {name} implements Node @key(fields: "id") {{' in served
    assert "union _Entity = Account | Engagement | Invoice | Opportunity | Person | Project" in (
        served
    )


def test_the_published_sdl_leaves_out_the_plumbing_but_keeps_the_keys() -> None:
    published = sdl()
    for plumbing in ("_entities", "_service", "_Any", "_Entity", "_Service"):
        assert plumbing not in published
    assert published.count('@key(fields: "id")') == len(KEYED)


async def test_entities_of_two_types_cost_one_statement_each(firm: Firm) -> None:
    accounts, projects = await _keys(firm, "account", 100), await _keys(firm, "project", 30)
    refs = _refs("Account", accounts) + _refs("Project", projects)
    async with running_app(firm.url) as app, http_client(app) as client:
        seen = count_statements(app.state.engine)
        await graphql(client, "{ __typename }")
        baseline = len(seen)  # the freshness extension every answer carries
        seen.clear()
        body = await graphql(client, ENTITIES, {"r": refs})
        read = sorted(m.group(1) for s in seen if (m := FROM.search(s)))
    assert "errors" not in body, body["errors"]
    got = body["data"]["_entities"]
    assert [e["id"] for e in got] == [r["id"] for r in refs]
    assert len(accounts) == 100 and all(e["name"] for e in got[:100])
    assert len(seen) == baseline + 2, seen
    assert read == ["account", "project", "sync_state"], read


async def test_a_reference_to_nothing_is_null_and_a_bad_one_fails_alone(firm: Firm) -> None:
    [account] = await _keys(firm, "account", 1)
    refs = [
        *_refs("Account", [account, 987_654_321]),
        {"__typename": "Account", "id": "not-an-id"},
        *_refs("Person", [987_654_321]),
    ]
    async with running_app(firm.url) as app, http_client(app) as client:
        body = await graphql(client, ENTITIES, {"r": refs})
    got = body["data"]["_entities"]
    assert got[0] == {"__typename": "Account", "id": refs[0]["id"], "name": got[0]["name"]}
    assert got[1:] == [None, None, None]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 2]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
