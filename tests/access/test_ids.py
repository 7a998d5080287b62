"""``node(id:)`` and the typed root fields: an id the caller may not see is NOT_FOUND in
words identical to those for an id that names nothing, so no answer tells that it exists.
(The answers for the ids a caller may see are checked by the matrix, test_matrix.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from clientgraph.access.policy import QUERY_ROLES
from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.generate import ENTITIES, NODES, graphql_schema, type_of_id
from tests.access.oracle import SEES_ALL_COMMANDS, TABLES, allowed_keys, global_ids, root_allowed
from tests.access.samples import ids_by_type, sample_ids
from tests.access.world import ROLES, World

SCHEMA = graphql_schema()
MISSING_KEY = 987_654_321


def _refusals(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["path"][0]: e for e in body.get("errors") or []}


async def _ask(world: World, role: Role, root: str, ids: list[str]) -> dict[str, Any]:
    fields = " ".join(f'a{n}: {root}(id: "{i}") {{ __typename }}' for n, i in enumerate(ids))
    return await world.caller(role).post(f"{{ {fields} }}")


@pytest.mark.parametrize("role", [r for r in ROLES if r not in SEES_ALL_COMMANDS], ids=str)
async def test_an_id_out_of_reach_reads_as_one_that_does_not_exist(
    world: World, role: Role
) -> None:
    caller = world.caller(role)
    accounts = world.partner_accounts if role is Role.PARTNER else None
    allowed = global_ids(await allowed_keys(world.engine, role, caller.principal_id, accounts))
    checked = 0
    for root, ids in (await sample_ids(world)).items():
        if root in (ENTITIES, NODES):
            continue  # several at once: null, never NOT_FOUND (test_entities.py, below)
        if not root_allowed(root, role, accounts is not None):
            continue  # FORBIDDEN for the role, whatever the id (the matrix checks it)
        hidden = [i for i in ids if type_of_id(i) in TABLES and i not in allowed]
        if not hidden:
            continue
        missing = [to_global_id(type_of_id(i), MISSING_KEY) for i in hidden]
        refused = _refusals(await _ask(world, role, root, hidden))
        absent = _refusals(await _ask(world, role, root, missing))
        for n, (seen, unseen) in enumerate(zip(hidden, missing, strict=True)):
            got, baseline = refused.get(f"a{n}"), absent[f"a{n}"]
            assert got is not None, f"{role} × {root}({seen}): answered, must be NOT_FOUND"
            assert baseline["extensions"]["code"] == "NOT_FOUND"
            assert got["extensions"] == baseline["extensions"]
            assert got["message"] == baseline["message"].replace(unseen, seen), (got, baseline)
            checked += 1
    assert checked, f"{role}: no id out of reach was checked"


async def test_nodes_reads_an_id_out_of_reach_as_one_that_does_not_exist(world: World) -> None:
    partner = world.caller(Role.PARTNER)
    keys = await allowed_keys(
        world.engine, Role.PARTNER, partner.principal_id, world.partner_accounts
    )
    allowed = global_ids(keys)
    accounts = (await sample_ids(world))["account"]
    (seen,) = [i for i in accounts if i in allowed][:1]
    (hidden,) = [i for i in accounts if i not in allowed][:1]
    missing = to_global_id("Account", MISSING_KEY)
    asked = [seen, hidden, missing, "nope"]
    listed = ", ".join(f'"{i}"' for i in asked)
    body = await partner.post(f"{{ nodes(ids: [{listed}]) {{ id }} }}")
    many = ", ".join([f'"{seen}"'] * 101)
    too_many = await partner.post(f"{{ nodes(ids: [{many}]) {{ id }} }}")

    assert body["data"]["nodes"] == [{"id": seen}, None, None, None]
    (error,) = body["errors"]  # only the malformed id is an error, at its own place
    assert (error["path"], error["extensions"]["code"]) == (["nodes", 3], "BAD_USER_INPUT")
    assert [e["extensions"]["code"] for e in too_many["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_handoffs_and_exceptions_are_nodes_under_their_root_fields_rules(
    world: World, role: Role
) -> None:
    ids = await ids_by_type(world, 1)
    (handoff,), (failure,) = ids["Handoff"][:1], ids["IntegrationException"][:1]
    query = (
        f'{{ h: node(id: "{handoff}") {{ id ... on Handoff {{ status }} }} '
        f'e: node(id: "{failure}") {{ id ... on IntegrationException {{ kind }} }} '
        f'n: nodes(ids: ["{handoff}", "{failure}"]) {{ id }} }}'
    )

    body = await world.caller(role).post(query)

    sees_handoff = role in QUERY_ROLES["handoff"]
    sees_failure = role in QUERY_ROLES["integrationExceptions"]
    data = body["data"]
    assert (data["h"] is not None, data["e"] is not None) == (sees_handoff, sees_failure)
    assert data["n"] == [
        {"id": handoff} if sees_handoff else None,
        {"id": failure} if sees_failure else None,
    ]
    hidden = {p for p, seen in (("h", sees_handoff), ("e", sees_failure)) if not seen}
    assert {
        e["path"][0]: e["extensions"]["code"] for e in body.get("errors") or []
    } == dict.fromkeys(hidden, "NOT_FOUND")
