"""How fresh the read model is, per source system and object type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import SyncState, table_of


async def sync_states(conn: AsyncConnection) -> list[Row[Any]]:
    """Every (system, object type) the read model has pulled, in a stable order."""
    t = table_of(SyncState)
    return list(await conn.execute(select(t).order_by(t.c.system, t.c.object_type)))
