"""Ids the generated documents ask for: rows the partner may see and rows it may not."""

from __future__ import annotations

from graphql import get_named_type
from sqlalchemy import text

from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.generate import entity_type_names, graphql_schema, node_type_names
from tests.access.oracle import TABLES, allowed_keys
from tests.access.world import World

PER_SIDE = 2  # ids per type the partner may see, and as many it may not (node(id:))
TYPED_PER_SIDE = 1  # the same for the typed root fields (account(id:)…), to keep it fast


async def _all_keys(world: World, table: str) -> list[int]:
    async with world.engine.connect() as conn:
        return [int(r[0]) for r in await conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))]


async def ids_by_type(world: World, per_side: int) -> dict[str, list[str]]:
    """Type → sample global ids: ``per_side`` inside the partner's scope, as many outside
    (every command: each principal's)."""
    partner = world.caller(Role.PARTNER)
    inside = await allowed_keys(
        world.engine, Role.PARTNER, partner.principal_id, world.partner_accounts
    )
    out: dict[str, list[str]] = {}
    for type_name, table in TABLES.items():
        keys = await _all_keys(world, table)
        if type_name != "Command":
            mine = [k for k in keys if k in inside[type_name]]
            keys = mine[:per_side] + [k for k in keys if k not in mine][:per_side]
        out[type_name] = [to_global_id(type_name, k) for k in keys]
    return out


async def sample_ids(world: World) -> dict[str, list[str]]:
    """Root field → the ids to ask it for (``node``: every Node type's)."""
    schema = graphql_schema()
    for_node, for_typed = (
        await ids_by_type(world, PER_SIDE),
        await ids_by_type(world, TYPED_PER_SIDE),
    )
    assert schema.query_type is not None
    out: dict[str, list[str]] = {}
    out["_entities"] = [i for t in sorted(entity_type_names(schema)) for i in for_node[t]]
    out["nodes"] = [i for t in sorted(node_type_names(schema)) for i in for_node[t]]
    for name, root in schema.query_type.fields.items():
        if "id" not in root.args:
            continue
        target = get_named_type(root.type).name
        if target == "Node":
            out[name] = [i for t in sorted(node_type_names(schema)) for i in for_node[t]]
        else:
            out[name] = for_typed[target]
    return out
