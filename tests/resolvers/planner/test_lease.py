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
    now = lease.snapshot()  # let go before the commit (or taken again since, with it)
    assert now is None or now.counters["account"] == snapshot.counters["account"] + 1
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
                    started = time.monotonic()
                    async with autocommit(engine) as conn:  # and at once the write
                        await conn.execute(TERMINATE, {"name": leases.APPLICATION_NAME})
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


async def a_holder(pg: AsyncEngine) -> asyncpg.Connection:
    """A session holding the table as a lease session does (registered, its let-go lock
    dropped once it holds the table), whose gateway never answers: it is killed below."""
    holder = await asyncpg.connect(**connect_kwargs(pg.url, None))
    await holder.execute(leases.REGISTER)
    await holder.execute("BEGIN; LOCK TABLE cg_cache_guard IN SHARE MODE")
    await holder.execute(leases.DROP_LET_GO)
    return holder


async def queued(admin: asyncpg.Connection) -> None:
    """Until a writer waits for the table."""
    waiting = "SELECT count(*) FROM pg_locks WHERE relation = 'cg_cache_guard'::regclass "
    while not await admin.fetchval(waiting + "AND NOT granted"):
        await asyncio.sleep(0.002)


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
async def test_a_writer_released_by_a_kill_waits_the_lease_out(
    pg: AsyncEngine, isolation: str
) -> None:
    """Killed, a lease session releases the table before its other traces go (its
    ``pg_stat_activity`` row among them): the writer it held up, let through at once, still
    waits out the lease its gateway may be serving, every time — also in REPEATABLE READ,
    whose snapshot predates the session's registration. Verified: with the lost session
    looked for in ``pg_stat_activity`` (the first build), a trial committed 7 ms after the
    kill; with the registry read in the writer's snapshot alone, a REPEATABLE READ one did."""
    admin = await asyncpg.connect(**connect_kwargs(pg.url, None))
    waited = []
    try:
        for trial in range(12):
            writer = await asyncpg.connect(**connect_kwargs(pg.url, None))
            await writer.execute(f"BEGIN ISOLATION LEVEL {isolation}")
            await writer.fetchval("SELECT count(*) FROM cg_lease_holder")  # its snapshot
            holder = await a_holder(pg)
            await writer.execute(f"UPDATE account SET name = 'Trial {trial}' WHERE id = 1")
            commit = asyncio.create_task(writer.execute("COMMIT"))
            await queued(admin)
            killed = time.monotonic()
            await admin.execute("SELECT pg_terminate_backend($1)", holder.get_server_pid())
            await commit
            waited.append(time.monotonic() - killed)
            holder.terminate()
            await writer.close()
    finally:
        await admin.close()
    assert min(waited) >= EVICT_SECONDS / 2 * 0.9, waited


async def test_a_held_lease_holds_up_no_concurrent_index_build(
    pg: AsyncEngine, lease: leases.CounterLease
) -> None:
    """``CREATE INDEX CONCURRENTLY`` waits for every transaction older than it, the lease's
    too: the heartbeat sees it wait for the session and lets go. Verified: with the
    heartbeat looking only for waiters on ``cg_cache_guard``, it waits until a write comes."""
    conn = await asyncpg.connect(**connect_kwargs(pg.url, None))
    try:
        await conn.execute("SET statement_timeout = '5s'")
        await conn.execute("CREATE INDEX CONCURRENTLY ix_lease_probe ON account (name)")
        await conn.execute("DROP INDEX ix_lease_probe")
    finally:
        await conn.close()
    assert await lease.taken(5.0)
