"""Root connections for the partner: the oracle's rows and counts, page by page, and a
cursor of a row it may not see reveals nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.generate import graphql_schema, is_connection
from tests.access.oracle import allowed_keys, root_allowed
from tests.access.world import World

SCHEMA = graphql_schema()
PAGE = "{ totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } }"


def _connections() -> list[str]:
    assert SCHEMA.query_type is not None
    return [n for n, f in SCHEMA.query_type.fields.items() if is_connection(f)]


def _node_type(root: str) -> str:
    assert SCHEMA.query_type is not None
    connection = SCHEMA.query_type.fields[root].type.of_type  # type: ignore[attr-defined]
    return str(connection.fields["nodes"].type.of_type.of_type.of_type.name)


async def _page(caller: Any, root: str, first: int, after: str | None) -> dict[str, Any]:
    query = f"query($after: String) {{ {root}(first: {first}, after: $after) {PAGE} }}"
    body = await caller.post(query, {"after": after})
    assert not body.get("errors"), body["errors"]
    return dict(body["data"][root])


async def _oracle_ids(world: World, type_name: str) -> set[str]:
    partner = world.caller(Role.PARTNER)
    keys = await allowed_keys(
        world.engine, Role.PARTNER, partner.principal_id, world.partner_accounts
    )
    return {to_global_id(type_name, k) for k in keys.get(type_name, set())}


@pytest.mark.parametrize(
    "root", [r for r in _connections() if root_allowed(r, Role.PARTNER, scoped=True)]
)
async def test_partner_pages_hold_exactly_its_rows(world: World, root: str) -> None:
    partner, admin = world.caller(Role.PARTNER), world.caller(Role.ADMIN)
    expected = await _oracle_ids(world, _node_type(root))
    assert expected, f"the partner must see some {root} for the check to mean anything"

    whole = await _page(partner, root, 100, None)
    walked: list[str] = []
    after = None
    while True:  # one row a page: every cursor it is given leads only to its rows
        page = await _page(partner, root, 1, after)
        assert page["totalCount"] == len(expected)
        walked += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert {e["node"]["id"] for e in whole["edges"]} == expected
    assert whole["totalCount"] == len(expected)
    assert walked == [e["node"]["id"] for e in whole["edges"]]
    everything = await _page(admin, root, 100, None)
    order = [e["node"]["id"] for e in everything["edges"]]
    for n, edge in enumerate(everything["edges"]):  # the admin's cursors, foreign ones too
        if edge["node"]["id"] in expected:
            continue
        after_it = await _page(partner, root, 100, edge["cursor"])
        wanted = [i for i in order[n + 1 :] if i in expected]
        assert [e["node"]["id"] for e in after_it["edges"]] == wanted, edge
        assert after_it["totalCount"] == len(expected)
