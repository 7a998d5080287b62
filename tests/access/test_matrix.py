"""The authorization matrix: every generated query × every role, against the oracle.

Each document (tests/access/generate.py) is asked as ADMIN and as each role; the role's
answer must equal the admin's transformed by the rule table and the oracle's row sets
(tests/access/oracle.py), data and ``extensions.masked`` exactly. A leak and an
over-restriction fail alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.generate import (
    Document,
    entity_type_names,
    graphql_schema,
    node_type_names,
    query_documents,
    reachable_fields,
)
from tests.access.oracle import (
    ROLE_GATED,
    Expectation,
    actual_errors,
    allowed_keys,
    global_ids,
    masked_of,
)
from tests.access.samples import sample_ids
from tests.access.world import ROLES, World

SCHEMA = graphql_schema()


def test_every_field_reachable_from_query_is_in_a_generated_document() -> None:
    assert SCHEMA.query_type is not None
    any_ids = {n: ["x"] for n in SCHEMA.query_type.fields}
    any_ids["node"] = [to_global_id(t, 1) for t in sorted(node_type_names(SCHEMA))]
    any_ids["_entities"] = [to_global_id(t, 1) for t in sorted(entity_type_names(SCHEMA))]
    any_ids["nodes"] = any_ids["node"]
    documents = query_documents(SCHEMA, any_ids)
    covered = set().union(*(d.covered for d in documents))
    missing = reachable_fields(SCHEMA, SCHEMA.query_type) - covered
    assert not missing, f"fields no generated query selects: {sorted(missing)}"
    assert {d.root for d in documents} == set(SCHEMA.query_type.fields)


async def documents_of(world: World) -> list[Document]:
    return query_documents(SCHEMA, await sample_ids(world))


async def expectation(world: World, role: Role) -> Expectation:
    caller = world.caller(role)
    accounts = world.partner_accounts if role is Role.PARTNER else None
    keys = await allowed_keys(world.engine, role, caller.principal_id, accounts)
    return Expectation(SCHEMA, role, global_ids(keys), scoped=accounts is not None)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_each_query_answers_what_the_rules_allow(world: World, role: Role) -> None:
    failures: list[str] = []
    oracle = await expectation(world, role)
    for document in await documents_of(world):
        admin = await world.admin_answer(document.text)
        actual = await world.caller(role).post(document.text)
        expected = oracle.fresh().of(document, admin)
        failures += _compare(document, role, expected, actual)
    assert not failures, "\n".join(failures)


def _compare(
    document: Document, role: Role, expected: Expectation, actual: dict[str, Any]
) -> list[str]:
    where = f"{role.value} × {document.root}"
    out = []
    if actual.get("data") != expected.data:
        out.append(f"{where}: data differs: {_diff(expected.data, actual.get('data'))}")
    if masked_of(actual) != sorted(set(expected.masked)):
        out.append(
            f"{where}: masked {masked_of(actual)} != expected {sorted(set(expected.masked))}"
        )
    if actual_errors(actual) != expected.errors:
        out.append(f"{where}: errors {actual.get('errors')} != expected {expected.errors}")
    return out


def _diff(expected: Any, actual: Any, path: str = "") -> str:
    """The first place two answers part, for a readable failure."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key) != actual.get(key):
                return _diff(expected.get(key), actual.get(key), f"{path}.{key}")
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items expected, {len(actual)} got"
        for n, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a:
                return _diff(e, a, f"{path}[{n}]")
    return f"{path}: expected {str(expected)[:300]} got {str(actual)[:300]}"


async def test_the_firm_holds_what_the_rules_must_hold_apart(world: World) -> None:
    partner = world.caller(Role.PARTNER)
    inside = await allowed_keys(
        world.engine, Role.PARTNER, partner.principal_id, world.partner_accounts
    )
    everything = await allowed_keys(world.engine, Role.ADMIN, "", None)
    for type_name, keys in everything.items():
        assert keys, f"the firm has no {type_name}"
        if type_name in ROLE_GATED:
            assert not inside[type_name], f"the partner's role sees {type_name}"
            continue
        assert inside[type_name], f"the partner sees no {type_name}"
        assert keys - inside[type_name], f"every {type_name} is the partner's"
    async with world.engine.connect() as conn:
        parents: dict[int, int | None] = dict(
            (await conn.execute(text("SELECT id, parent_id FROM account"))).all()
        )
        staffed = (
            await conn.execute(
                text(
                    "SELECT a.person_id, p.account_id FROM assignment a "
                    "JOIN project p ON p.id = a.project_id"
                )
            )
        ).all()
    named = world.partner_accounts
    assert any(parents[c] is not None and parents[c] not in named for c in named), "hidden parent"
    assert any(p in named and c not in named for c, p in parents.items()), "hidden child"
    clients: dict[int, set[int]] = {}
    for person, account in staffed:
        clients.setdefault(person, set()).add(account)
    assert any(a & named and a - named for a in clients.values()), "a person on both sides"
    assert any(not a & named for a in clients.values()), "a person on other clients only"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer cg_nope"}, {"Authorization": "Basic eDp5"}]
)
async def test_no_good_credentials_is_http_401(world: World, headers: dict[str, str]) -> None:
    client = world.caller(Role.ADMIN).client
    response = await client.post(
        "/graphql",
        json={"query": "{ accounts { totalCount } }"},
        headers={"Authorization": "", **headers},
    )
    assert response.status_code == 401
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    assert "data" not in response.json()
