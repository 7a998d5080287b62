"""Bulk inserts in dependency order, and the clean-up that undoes them."""

from __future__ import annotations

from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.seed.context import Row
from readmodel.tables import metadata

# Parents before children: every foreign key points to a table earlier in this list.
INSERT_ORDER = (
    "person",
    "rate_card",
    "rate_card_line",
    "account",
    "account_xref",
    "contact",
    "opportunity",
    "engagement",
    "project",
    "assignment",
    "milestone",
    "change_order",
    "invoice",
    "time_entry",
    "payment",
    "sync_state",
    "forecast_snapshot",
)
BATCH = 5_000
STORED_FIGURES = (
    "account_figures",
    "account_health_factor",
    "project_figures",
    "engagement_figures",
)
"""Computed from the rows above (readmodel/figures/stored.py), never inserted by the seed."""


async def insert_rows(conn: AsyncConnection, rows: dict[str, list[Row]]) -> int:
    """Insert every buffered row, table by table in ``INSERT_ORDER``; return the row count."""
    written = 0
    for name in INSERT_ORDER:
        table_rows = rows.get(name) or []
        for start in range(0, len(table_rows), BATCH):
            await conn.execute(insert(metadata.tables[name]), table_rows[start : start + BATCH])
        written += len(table_rows)
    return written


async def reset_sequences(conn: AsyncConnection) -> None:
    """After explicit ids, make PostgreSQL's next generated id follow the largest one."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's rowid allocation already follows max(id)
    for name in INSERT_ORDER:
        if "id" in metadata.tables[name].c:
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
            )


async def clear_firm(engine: AsyncEngine) -> None:
    """Delete every row of every read-model table (children first)."""
    async with engine.begin() as conn:
        for name in reversed(INSERT_ORDER):
            await conn.execute(delete(metadata.tables[name]))
        for name in STORED_FIGURES:
            await conn.execute(delete(metadata.tables[name]))
