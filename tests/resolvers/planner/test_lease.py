"""The change counters' lease (resolvers/planner/lease.py, migration 0022) on live PostgreSQL:
a writer's commit ends the lease before it lands, a holder that never lets go is ended after
the eviction time and not before, a process stalled past its lease serves no kept answer from
it, and a lease whose session ended is taken again.

Verified, each by breaking it: without the savepoint under the lock (a writer's cancel then
aborts the transaction, and PostgreSQL releases its locks at once), the stalled gateway answers
the old name from its cache; without the writer's check of ``cg_lease_holder``, or with the
lease renewed for the whole eviction time (not half of it), so does the gateway whose lease
session was killed; without the counters' read rolled back to the savepoint, the DDL test
waits past its lock timeout.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import autocommit, connect_kwargs, create_engine
from readmodel.raw_reads import RawReads
from resolvers.planner import lease as leases
from tests.conftest import http_client, migrated_engine, running_app
from tests.readmodel.firm_builder import FirmBuilder

pytestmark = pytest.mark.postgres
EVICT_SECONDS = 1.0  # cg_cache_guard_evict_ms()
QUERY = "query Names { accounts(first: 50) { nodes { id name } } }"


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgresql", tmp_path) as engine:
        async with engine.begin() as conn:
            assert await FirmBuilder(conn).account("Leased Ltd") == 1
        yield engine


@pytest.fixture
async def lease(pg: AsyncEngine) -> AsyncIterator[leases.CounterLease]:
    raw = RawReads(pg, 2, None)
    held = leases.start(raw)
    try:
        assert await held.taken(5.0)
        yield held
    finally:
        await held.aclose()
        await raw.aclose()


def lost() -> float:
    sample = "clientgraph_response_cache_leases_total"
    return REGISTRY.get_sample_value(sample, {"outcome": "lost"}) or 0.0


async def rename(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE account SET name = :n WHERE id = 1"), {"n": name})


async def account_counter(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(text("SELECT value FROM change_counter WHERE name = 'account'"))
        return int(found.scalar_one())


async def test_a_commit_ends_the_lease_before_it_lands(
    pg: AsyncEngine, lease: leases.CounterLease
) -> None:
    snapshot = lease.snapshot()
    assert snapshot is not None
    assert snapshot.counters["account"] == await account_counter(pg)
    ended = lost()
    await rename(pg, "Leased Renamed")  # cancels the heartbeat, waits for the ROLLBACK
    assert lease.snapshot() is None  # let go before the commit: nothing from memory now
    assert await lease.taken(5.0)
    again = lease.snapshot()
    assert again is not None
    assert (
        again.counters["account"] == await account_counter(pg) == snapshot.counters["account"] + 1
    )
    assert lost() == ended  # let go when asked, not ended


async def test_a_holder_that_never_lets_go_is_ended_after_the_eviction_time(
    pg: AsyncEngine,
) -> None:
    """A session holding the lock with no heartbeat (a process stopped while it held the
    lease) is terminated by the writer, no sooner than ``cg_cache_guard_evict_ms()``; the
    write commits."""
    holder = await asyncpg.connect(**connect_kwargs(pg.url, None))
    try:
        await holder.execute("BEGIN")
        await holder.execute("LOCK TABLE cg_cache_guard IN SHARE MODE")
        started = time.monotonic()
        await asyncio.wait_for(rename(pg, "Written Past A Stall"), 10)
        waited = time.monotonic() - started
        ended = (
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
        )
        with pytest.raises((*ended, OSError)):
            await holder.fetchval("SELECT 1")
    finally:
        holder.terminate()
    assert waited >= EVICT_SECONDS
    async with pg.connect() as conn:
        name = await conn.execute(text("SELECT name FROM account WHERE id = 1"))
        assert name.scalar_one() == "Written Past A Stall"


async def test_a_stalled_gateway_serves_nothing_from_a_lease_it_lost(pg: AsyncEngine) -> None:
    """A gateway whose event loop stalls (a long computation) while a writer waits is ended
    by the writer; once the loop runs again, the very next query sees the write, though the
    gateway had the old answer cached under the lease."""
    url = pg.url.render_as_string(hide_password=False)
    async with running_app(url, compiled_reads=True) as app, http_client(app) as client:
        assert (await client.post("/graphql", json={"query": QUERY})).status_code == 200
        kept = (await client.post("/graphql", json={"query": QUERY})).json()
        assert [n["name"] for n in kept["data"]["accounts"]["nodes"]] == ["Leased Ltd"]
        assert await app.state.counter_lease.taken(5.0)

        def write_elsewhere() -> None:  # another process's writer, while this loop stalls
            async def write() -> None:
                engine = create_engine(url)
                try:
                    await rename(engine, "Renamed During A Stall")
                finally:
                    await engine.dispose()

            asyncio.run(write())

        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join(15)  # blocks this event loop, heartbeats and all, until the write lands
        assert not writer.is_alive()
        after = (await client.post("/graphql", json={"query": QUERY})).json()
    assert [n["name"] for n in after["data"]["accounts"]["nodes"]] == ["Renamed During A Stall"]


async def test_a_gateway_whose_lease_session_was_killed_serves_nothing_stale(
    pg: AsyncEngine,
) -> None:
    """The lease's session is ended from outside (an operator's ``pg_terminate_backend``) and
    a write commits at once, before the gateway's event loop has run again (it learns of the
    end only then): the writer finds the registered session gone and waits out its lease
    before it commits, so the gateway's very next answer has the write."""
    url = pg.url.render_as_string(hide_password=False)
    async with running_app(url, compiled_reads=True) as app, http_client(app) as client:
        await client.post("/graphql", json={"query": QUERY})
        await client.post("/graphql", json={"query": QUERY})  # kept
        assert await app.state.counter_lease.taken(5.0)
        waited: list[float] = []

        def kill_then_write() -> None:
            async def run() -> None:
                engine = create_engine(url)
                try:
                    async with autocommit(engine) as conn:  # (each read, the sessions now)
                        await conn.execute(TERMINATE, {"name": leases.APPLICATION_NAME})
                        while (await conn.execute(ALIVE, {"name": leases.APPLICATION_NAME})).all():
                            await asyncio.sleep(0.001)
                    started = time.monotonic()
                    await rename(engine, "Renamed After A Kill")
                    waited.append(time.monotonic() - started)
                finally:
                    await engine.dispose()

            asyncio.run(run())

        writer = threading.Thread(target=kill_then_write)
        writer.start()
        writer.join(15)  # this event loop runs nothing meanwhile
        after = (await client.post("/graphql", json={"query": QUERY})).json()
    assert [n["name"] for n in after["data"]["accounts"]["nodes"]] == ["Renamed After A Kill"]
    assert waited and waited[0] >= EVICT_SECONDS / 2  # the lost lease, waited out


TERMINATE = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE application_name = :name AND datname = current_database()"
)
ALIVE = text(
    "SELECT pid FROM pg_stat_activity "
    "WHERE application_name = :name AND datname = current_database()"
)


async def test_a_lease_whose_session_ended_is_taken_again(
    pg: AsyncEngine, lease: leases.CounterLease
) -> None:
    ended = lost()
    async with pg.connect() as conn:
        killed = await conn.execute(TERMINATE, {"name": leases.APPLICATION_NAME})
        assert killed.scalars().all() == [True]
    for _ in range(200):
        if lost() > ended:
            break
        await asyncio.sleep(0.01)
    assert lost() == ended + 1
    assert await lease.taken(5.0)


async def test_a_held_lease_holds_no_lock_on_the_tables_it_read(
    pg: AsyncEngine, lease: leases.CounterLease
) -> None:
    """DDL of ``change_counter`` and ``sync_state`` (which take their tables' strongest lock)
    is not held up by a gateway holding the lease: its counters' read was rolled back to the
    savepoint, and only ``cg_cache_guard``'s lock stays."""
    async with pg.begin() as conn:
        await conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        await conn.execute(text("ALTER TABLE sync_state RENAME TO sync_state_away"))
        await conn.execute(text("ALTER TABLE sync_state_away RENAME TO sync_state"))
        await conn.execute(text("LOCK TABLE change_counter IN ACCESS EXCLUSIVE MODE"))
    assert await lease.taken(5.0)
