"""The change counters' PostgreSQL triggers (migration 0015) under concurrent writers: the
counters are bumped at commit, in name order, so writers neither deadlock on them nor queue
behind each other's open transactions, and every committed write still bumps every table it
changed (what the exact response cache relies on, resolvers/response_cache.py).

Verified: with the previous triggers (a counter UPDATE at a transaction's first write to a table,
its row held to commit) the opposite-order test fails with PostgreSQL's deadlock error and the
same-table test times out waiting for the first writer's commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.conftest import migrated_engine
from tests.readmodel.firm_builder import FirmBuilder

pytestmark = pytest.mark.postgres
WAIT = 10.0  # seconds: far above PostgreSQL's deadlock_timeout (1 s), far below a hang


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgresql", tmp_path) as engine:
        yield engine


async def counters(engine: AsyncEngine, *names: str) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT name, value FROM change_counter WHERE name = ANY(:names)"),
            {"names": list(names)},
        )
        return {name: int(value) for name, value in rows}


async def write(conn: AsyncConnection, table: str) -> None:
    builder = FirmBuilder(conn)
    if table == "account":
        await builder.account("Concurrent")
    else:
        await builder.person("Concurrent")


async def test_opposite_orders_commit_without_deadlock(pg: AsyncEngine) -> None:
    before = await counters(pg, "account", "person")
    async with pg.connect() as t1, pg.connect() as t2:
        await t1.begin()
        await t2.begin()
        await write(t1, "account")
        await write(t2, "person")
        second_of_t1 = asyncio.ensure_future(write(t1, "person"))
        await asyncio.sleep(0.3)  # T1's second write reaches the server before T2's
        second_of_t2 = asyncio.ensure_future(write(t2, "account"))
        await asyncio.wait_for(asyncio.gather(second_of_t1, second_of_t2), WAIT)
        await asyncio.wait_for(asyncio.gather(t1.commit(), t2.commit()), WAIT)
    after = await counters(pg, "account", "person")
    assert after == {name: value + 2 for name, value in before.items()}


async def test_a_writer_does_not_wait_for_an_open_writer_of_the_same_table(
    pg: AsyncEngine,
) -> None:
    before = await counters(pg, "account")
    async with pg.connect() as t1, pg.connect() as t2:
        await t1.begin()
        await write(t1, "account")
        await t2.begin()
        await asyncio.wait_for(write(t2, "account"), WAIT)
        await asyncio.wait_for(t2.commit(), WAIT)  # T1 is still open
        assert await counters(pg, "account") == {"account": before["account"] + 1}
        await t1.commit()
    assert await counters(pg, "account") == {"account": before["account"] + 2}


async def test_every_table_is_bumped_once_per_transaction(pg: AsyncEngine) -> None:
    names = ("account", "contact", "person")
    before = await counters(pg, *names)
    async with pg.begin() as conn:
        for _ in range(3):
            await write(conn, "account")
            await write(conn, "person")
        # nothing changed: no bump for contact
        await conn.execute(text("UPDATE contact SET source_id = source_id WHERE false"))
    assert await counters(pg, *names) == {
        "account": before["account"] + 1,
        "contact": before["contact"],
        "person": before["person"] + 1,
    }
    async with pg.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM cg_change_marker"))).scalar() == 0


async def test_immediate_constraints_savepoints_and_truncate_still_bump(pg: AsyncEngine) -> None:
    names = ("account", "person", "rate_card_line")
    before = await counters(pg, *names)
    async with pg.begin() as conn:
        await write(conn, "account")
        await conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # fires the bump now
        await write(conn, "person")  # recorded and marked again
        savepoint = await conn.begin_nested()
        await conn.execute(text("TRUNCATE rate_card_line"))
        await savepoint.rollback()  # its record goes with it
    assert await counters(pg, *names) == {
        "account": before["account"] + 1,
        "person": before["person"] + 1,
        "rate_card_line": before["rate_card_line"],
    }
    async with pg.begin() as conn:
        await conn.execute(text("TRUNCATE rate_card_line"))
    assert (await counters(pg, "rate_card_line"))["rate_card_line"] == before["rate_card_line"] + 1
