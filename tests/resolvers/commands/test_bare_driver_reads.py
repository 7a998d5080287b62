"""A mutation's target read on the gateway's bare connections (readmodel/raw_reads.py) gives
what the engine gives: the same rows, the same values and types, the same absences, for every
entity a command can target and for callers with and without row rules. PostgreSQL only
(SQLite has no bare connections)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import autocommit, count_statements
from readmodel.raw_reads import RawReads, RawRow
from readmodel.reads.scope import EVERYTHING, RowScope
from resolvers.commands.ownership import ENTITY_TABLES, live_records
from tests.conftest import Firm
from tests.resolvers.commands.world import small_firm

ON_POSTGRESQL = pytest.mark.parametrize("firm", ["postgresql"], indirect=True)


def _values(rows: dict[int, Any]) -> dict[int, list[tuple[str, Any, type]]]:
    """Each row's columns by name, with each value's type (a date is not its text)."""
    out = {}
    for key, row in rows.items():
        mapping = dict(row._mapping.items())
        out[key] = [(name, value, type(value)) for name, value in sorted(mapping.items())]
    return out


async def _keys(firm: Firm, entity: str) -> list[int]:
    """Some of the entity's ids, a soft-deleted one among them where there is one, and an id
    that does not exist."""
    table = ENTITY_TABLES[entity]
    async with firm.engine.connect() as conn:
        live = list(
            (await conn.execute(select(table.c.id).order_by(table.c.id).limit(6))).scalars()
        )
        gone = (
            await conn.execute(select(table.c.id).where(table.c.deleted_at.is_not(None)).limit(1))
        ).scalar()
        top = (await conn.execute(select(func.max(table.c.id)))).scalar() or 0
    return [*live, *([gone] if gone is not None else []), top + 1000]


@ON_POSTGRESQL
@pytest.mark.parametrize("entity", sorted(ENTITY_TABLES))
async def test_the_bare_driver_reads_the_targets_the_engine_reads(firm: Firm, entity: str) -> None:
    keys = await _keys(firm, entity)
    async with firm.engine.connect() as conn:
        accounts = list(
            (await conn.execute(select(ENTITY_TABLES["project"].c.account_id).limit(3))).scalars()
        )
        owner = (
            await conn.execute(select(func.min(ENTITY_TABLES["opportunity"].c.owner_name)))
        ).scalar()
    scopes = [EVERYTHING, RowScope(accounts=frozenset(accounts)), RowScope(owner=owner)]
    raw = RawReads(firm.engine, 1, None)
    seen = count_statements(firm.engine)
    try:
        for scope in scopes:
            async with autocommit(firm.engine) as conn:
                expected = await live_records(conn, entity, keys, scope)
            seen.clear()
            async with raw.connect() as bare:
                got = await live_records(bare, entity, keys, scope)
            assert _values(got) == _values(expected), scope
            assert len(seen) == 1, seen  # one statement, wherever it ran
            if scope is EVERYTHING:  # on the driver itself; row rules: compiled by the engine
                assert {type(row) for row in got.values()} <= {RawRow}
                assert "= ANY ($1::BIGINT[])" in seen[0]
            else:
                assert {type(row) for row in got.values()}.isdisjoint({RawRow})
    finally:
        await raw.aclose()
    assert raw.opened == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_soft_deleted_target_is_absent_on_the_bare_driver(engine: AsyncEngine) -> None:
    """The guard the statement carries (``deleted_at IS NULL``), on a firm of the test's own."""
    deal = (await small_firm(engine))["deal"]
    table = ENTITY_TABLES["opportunity"]
    raw = RawReads(engine, 1, None)
    try:
        async with raw.connect() as bare:
            before = await live_records(bare, "opportunity", [deal])
        async with engine.begin() as conn:
            await conn.execute(
                update(table).where(table.c.id == deal).values(deleted_at=func.now())
            )
        async with raw.connect() as bare:
            after = await live_records(bare, "opportunity", [deal])
    finally:
        await raw.aclose()
    assert list(before) == [deal] and after == {}
