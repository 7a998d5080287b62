"""Federation's ``_entities``: a supergraph's references, read like every other path.

Each representation goes through the request's ``<type>_by_id`` loader, so all the
representations of one type in a request are one SQL statement, within the caller's row
scope; guarded fields stay masked because they are guarded on the type, whatever the path.
A reference the caller may not see resolves to null, exactly like one naming nothing, so a
supergraph's answer does not tell that it exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from resolvers.context import Context
from resolvers.ids import key_of
from resolvers.records import LOADER_OF_TYPE

ENTITY_TYPES = ("Account", "Opportunity", "Engagement", "Project", "Invoice", "Person")
"""The types with a federation ``@key`` (their global id)."""


async def entity(ctx: Context, type_name: str, global_id: Any) -> Row[Any] | None:
    """The row a reference names, or None when it names nothing the caller may see.

    An id that is not a clientgraph id of ``type_name`` is ``BAD_USER_INPUT`` (for that
    representation only: the others still resolve).
    """
    if not isinstance(global_id, str):
        global_id = str(global_id)
    key = key_of(global_id, type_name, argument="representations.id")
    row: Row[Any] | None = await getattr(ctx.loaders, LOADER_OF_TYPE[type_name]).load(key)
    return row
