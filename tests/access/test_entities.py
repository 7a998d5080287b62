"""Federation's ``_entities`` under the same rules as ``node(id:)``, said plainly (the matrix,
test_matrix.py, checks every field of every keyed type for every role)."""

from __future__ import annotations

from typing import Any

from clientgraph.access.roles import Role
from tests.access.oracle import allowed_keys, global_ids
from tests.access.samples import ids_by_type
from tests.access.world import World

PROJECT = "... on Project { id code costToDate { amount } margin budgetBurn }"


def _refs(type_name: str, ids: list[str]) -> list[dict[str, str]]:
    return [{"__typename": type_name, "id": i} for i in ids]


async def _entities(world: World, role: Role, refs: list[dict[str, str]]) -> dict[str, Any]:
    query = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ __typename {PROJECT} }} }}"
    return await world.caller(role).post(query, {"r": refs})


async def test_a_partner_gets_its_own_references_and_nulls_for_the_others(world: World) -> None:
    partner = world.caller(Role.PARTNER)
    keys = await allowed_keys(
        world.engine, Role.PARTNER, partner.principal_id, world.partner_accounts
    )
    mine = global_ids(keys)
    projects = (await ids_by_type(world, 2))["Project"]
    inside, outside = [i for i in projects if i in mine], [i for i in projects if i not in mine]
    assert inside and outside
    body = await _entities(world, Role.PARTNER, _refs("Project", projects))
    assert "errors" not in body, body["errors"]
    got = body["data"]["_entities"]
    assert [e and e["id"] for e in got] == [i if i in mine else None for i in projects]
    assert {"costToDate", "margin", "budgetBurn"} <= {
        k for e in got if e for k, v in e.items() if v is None
    }
    assert body["extensions"]["masked"] == [
        "_entities.budgetBurn",
        "_entities.costToDate",
        "_entities.margin",
    ]


async def test_delivery_sees_every_reference_with_money_detail_masked(world: World) -> None:
    projects = (await ids_by_type(world, 2))["Project"]
    body = await _entities(world, Role.DELIVERY, _refs("Project", projects))
    got = body["data"]["_entities"]
    assert [e["id"] for e in got] == projects
    assert all(e["costToDate"] is None and e["margin"] is None for e in got)
    assert all(e["budgetBurn"] is not None for e in got)
    assert body["extensions"]["masked"] == ["_entities.costToDate", "_entities.margin"]
    finance = (await _entities(world, Role.FINANCE, _refs("Project", projects)))["data"]
    assert all(e["costToDate"] is not None for e in finance["_entities"])


async def test_the_subgraph_sdl_is_for_internal_roles_only(world: World) -> None:
    refused = await world.caller(Role.PARTNER).post("{ _service { sdl } }")
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    served = await world.caller(Role.DELIVERY).post("{ _service { sdl } }")
    assert '@key(fields: "id")' in served["data"]["_service"]["sdl"]
