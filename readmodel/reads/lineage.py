"""The ids a client has in systems other than the one that owns its row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import AccountXref, table_of


async def xrefs_by_account(
    conn: AsyncConnection, account_ids: Sequence[int]
) -> dict[int, list[Row[Any]]]:
    """Cross-references of each account (e.g. its ERP customer id), by system."""
    t = table_of(AccountXref)
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    stmt = select(t).where(t.c.account_id.in_(set(account_ids))).order_by(t.c.system, t.c.id)
    for row in await conn.execute(stmt):
        grouped[row.account_id].append(row)
    return grouped
