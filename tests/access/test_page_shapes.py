"""A page's shape written into the compiled statement (resolvers/planner/shapes.py), through
HTTP on both backends: sizes the document fixes and after-a-cursor-or-not become constants,
a size from a variable stays a parameter, the answers are the per-field path's, and on
PostgreSQL the statement runs on a plan made once.

Verified: with ``MAX_SHAPES = 0`` (every value bound, as before) the statements carry
``LIMIT $n`` and PostgreSQL plans the page's statement again at each of its runs (no
generic plan); with shapes it keeps one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.roles import Role
from clientgraph.settings import GraphQLSettings
from resolvers.planner import shapes
from resolvers.planner.shapes import Shapes, constant, written
from tests.access.compiled import compiled_so_far
from tests.access.test_response_cache import data_of, served
from tests.access.world import World
from tests.conftest import Firm, http_client, running_app
from tests.gateway.test_authentication import gateway, new_key
from tests.gateway.test_short_path import post
from tests.readmodel.firm_builder import FirmBuilder, build

PAGES = """
query Pages($after: String) {
  accounts(first: 2, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { name invoices(first: 2) { number } }
  }
}
"""
SIZED = """
query Sized($first: Int) {
  accounts(first: $first) { nodes { name invoices(first: $first) { number } } }
}
"""
BOUND_LIMIT = re.compile(r"LIMIT (\$\d+|\?|:\w+)")


def pages_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM account" in s and "cg_rn" in s]


async def test_a_pages_shape_is_written_in_and_answers_as_the_per_field_path(
    world: World,
) -> None:
    async with served(world, compiled_reads=False) as (_, per_field):
        first = await per_field(Role.ADMIN, PAGES)
        page = dict(dict(data_of(first))["accounts"])
        cursor = dict(page["pageInfo"])["endCursor"]
        second = await per_field(Role.ADMIN, PAGES, {"after": cursor})
    async with served(world, response_cache_mb=0) as (seen, ask):
        assert data_of(await ask(Role.ADMIN, PAGES)) == data_of(first)
        assert data_of(await ask(Role.ADMIN, PAGES, {"after": cursor})) == data_of(second)
        statements = pages_statements(seen)

    assert len(statements) == 2, statements  # one per request: from the start, and after
    start, later = statements
    assert start != later  # two shapes, two texts
    for statement in statements:
        assert not BOUND_LIMIT.search(statement), statement
        assert "LIMIT 3" in statement and "LIMIT 2" in statement  # the page's 2 + 1, the list's
    assert data_of(first) != data_of(second)  # the test would prove nothing otherwise


async def test_a_size_from_a_variable_stays_a_parameter(world: World) -> None:
    async with served(world, compiled_reads=False) as (_, per_field):
        expected = {n: await per_field(Role.ADMIN, SIZED, {"first": n}) for n in (1, 3)}
    async with served(world, response_cache_mb=0) as (seen, ask):
        for n in (1, 3):
            assert data_of(await ask(Role.ADMIN, SIZED, {"first": n})) == data_of(expected[n])
        statements = pages_statements(seen)
    assert len(statements) == 2 and statements[0] == statements[1]  # one text for any size
    assert len(BOUND_LIMIT.findall(statements[0])) >= 2  # the page's and the list's


@pytest.mark.parametrize("firm", ["postgresql"], indirect=True)
async def test_postgresql_plans_a_pages_statement_once(firm: Firm) -> None:
    """The seeded firm (300 accounts): with ``LIMIT $n`` PostgreSQL's generic plan was
    estimated for a tenth of the accounts, dearer than the custom one, so it planned again at
    every run (12 custom plans here; verified with ``MAX_SHAPES = 0``)."""
    async with running_app(firm.url, response_cache_mb=0) as app, http_client(app) as client:
        for _ in range(12):
            answer = (await client.post("/graphql", json={"query": PAGES})).json()
            assert "errors" not in answer and answer["data"]["accounts"]["nodes"]
        async with app.state.raw_reads.connect() as conn:  # one request at a time: one session
            held = await conn.one(PLANS, {})
    assert (held.statements, held.generic, held.custom) == (1, 7, 5)  # the first five: custom


PLANS = text(
    "SELECT count(*) AS statements, coalesce(sum(generic_plans), 0) AS generic, "
    "coalesce(sum(custom_plans), 0) AS custom FROM pg_prepared_statements "
    "WHERE statement LIKE '%cg_rn%' AND statement LIKE '%FROM account%' "
    "AND statement NOT LIKE '%pg_prepared_statements%'"
)


def test_constants_are_written_only_where_the_parameter_is() -> None:
    sql = "SELECT :p1, :p12, '\\:p1', x::p1, CAST(:p1 AS BOOLEAN) LIMIT :p2"
    assert written(sql, {"p1": "TRUE", "p2": "51"}) == (
        "SELECT TRUE, :p12, '\\:p1', x::p1, CAST(TRUE AS BOOLEAN) LIMIT 51"
    )
    assert [constant(v, postgres=True) for v in (None, True, False, 7, -7, "x", 1.5)] == [
        "NULL", "TRUE", "FALSE", "7", "(-7)", None, None,
    ]  # fmt: skip
    assert [constant(v, postgres=False) for v in (True, False)] == ["1", "0"]


def test_shapes_are_bounded_and_never_confuse_a_boolean_with_a_number() -> None:
    made: list[str] = []

    def make(sql: str) -> str:
        made.append(sql)
        return sql

    statements: Shapes[str] = Shapes("LIMIT :p1", ("p1",), True, make)
    assert statements.of({"p1": True}) == "LIMIT TRUE"
    assert statements.of({"p1": 1}) == "LIMIT 1"
    assert statements.of({"p1": True}) == "LIMIT TRUE" and len(made) == 3  # kept, not made again
    assert statements.of({"p1": "text"}) == "LIMIT :p1"  # not a constant this writes: bound
    for n in range(2, 2 + shapes.MAX_SHAPES):
        statements.of({"p1": n})
    assert len(statements._made) == shapes.MAX_SHAPES
    assert statements.of({"p1": 99}) == "LIMIT :p1"  # beyond the bound: every value bound


OWNER = "Ops" + "-".join(f":p{n}" for n in range(1, 25))  # every early parameter's name
BOOK = "query Book { accounts(first: 10) { totalCount nodes { name } } }"


async def test_an_owner_named_like_a_parameter_is_compared_as_written(
    engine: AsyncEngine,
) -> None:
    """An account team's book is a row rule rendered into the statement with its literal:
    its colons were a bind parameter to ``text()`` (and a page's shape, written in, replaced
    one: found in review), so the compiled answer compared another name. It is the per-field
    answer now, and compiled."""

    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        await b.account("Mine", owner_name=OWNER)
        await b.account("Theirs", owner_name="Ops")

    await build(engine, recipe)
    key = await new_key(engine, "account_team", owner=OWNER)
    answers = []
    for compiled_reads in (False, True):
        limits = GraphQLSettings(trusted_documents_only_roles=[], compiled_reads=compiled_reads)
        async with (
            gateway(engine, graphql=limits, book_scoped_account_teams=True) as app,
            http_client(app) as client,
        ):
            before = compiled_so_far()
            for _ in range(2):
                answer = await post(client, key, {"query": BOOK})
                answers.append(answer.json())
            if compiled_reads:
                assert compiled_so_far() == before + 1  # the pipeline's, compiled; then short
    assert all(a == answers[0] for a in answers)
    assert answers[0]["data"]["accounts"]["nodes"] == [{"name": "Mine"}]
