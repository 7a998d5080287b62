"""The exact response cache (resolvers/response_cache.py) through HTTP, on both backends: a hit
reads no read-model table, a write is seen by the very next query, callers with other rule sets
never share an answer, and the setting turns it off.

Verified: keying entries by the plan's document alone (without the role and row rules) makes
the partner receive the admin's page here; serving an entry without comparing the counters
makes the renamed account's old name come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text, update

from bench.pgcount import counting_proxy
from clientgraph.access.roles import Role
from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from readmodel.db import count_statements
from readmodel.figures.stored import refresh_stale
from readmodel.tables import SyncState, table_of
from resolvers.planner.sync_states import VERSION as SYNC_VERSION
from resolvers.response_cache import COUNTED
from tests.access.compiled import ordered
from tests.access.world import LIMITS, ROLES, World, _client
from tests.conftest import FIRM_NOW, FIRM_TODAY
from tests.e2e.processes import free_port

PAGE = """
query Page($first: Int) {
  accounts(first: $first) {
    totalCount
    nodes { id name invoices { number balance { amount currency } } }
  }
}
"""


def lookups(result: str) -> float:
    found = REGISTRY.get_sample_value(
        "clientgraph_cache_lookups_total", {"cache": "response", "result": result}
    )
    return found or 0.0


@asynccontextmanager
async def served(
    world: World, url: str | None = None, **graphql: Any
) -> AsyncIterator[tuple[list[str], Asker]]:
    """A compiled-reads app of its own on the world (its own cache), its engine's statements
    recorded, and ``ask(role, query, variables)``."""
    settings = Settings(
        database_url=url or world.url,
        graphql=GraphQLSettings(**{**LIMITS, "compiled_reads": True, **graphql}),
        auth=AuthSettings(anonymous_role=None),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        clients: dict[Role, httpx.AsyncClient] = {}
        for role in ROLES:
            clients[role] = await stack.enter_async_context(_client(app, world.caller(role).key))
        seen = count_statements(app.state.engine)
        yield seen, Asker(app, clients)


@dataclass(frozen=True)
class Asker:
    """``ask(role, query, variables)``: the answer, ordered; ``app``: the app asked."""

    app: Any
    clients: dict[Role, httpx.AsyncClient]

    async def __call__(
        self, role: Role, query: str, variables: dict[str, Any] | None = None
    ) -> Any:
        response = await self.clients[role].post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        return ordered(response.text)


def data_of(body: Any) -> Any:
    return dict(body)["data"]


def reads_counters(statement: str) -> bool:
    """Does ``statement`` read the response cache's counters (not only ``sync_state``'s, which
    every compiled statement reads: resolvers/planner/sync_states.py)?"""
    return "change_counter" in statement.replace(SYNC_VERSION, "")


def reads_a_read_model_table(statement: str) -> bool:
    words = set(statement.replace("(", " ").replace(")", " ").replace(",", " ").split())
    return bool(words & COUNTED)


async def leased(app: Any) -> bool:
    """Wait until the app holds the change counters' lease (resolvers/planner/lease.py): its
    hits then run no statement. False where it holds none (SQLite, the setting off)."""
    lease = app.state.counter_lease
    if lease is None:
        return False
    assert await lease.taken(5.0), "the counter lease was not taken in 5 s"
    return True


@pytest.mark.parametrize("lease", [True, False])
async def test_a_hit_reads_only_the_counters_or_nothing(world: World, lease: bool) -> None:
    """A hit reads no read-model table: one statement on the counters, or none at all under
    the counters' lease (PostgreSQL). Verified: with the lease's snapshot ignored, the hit
    under the lease runs the counters' statement."""
    async with served(world, response_cache_lease=lease) as (seen, ask):
        first = await ask(Role.ADMIN, PAGE, {"first": 3})
        held = await leased(ask.app)
        hits = lookups("hit")
        seen.clear()
        again = await ask(Role.ADMIN, PAGE, {"first": 3})
        operation = [s for s in seen if reads_counters(s) or reads_a_read_model_table(s)]

    assert held == (lease and world.backend == "postgresql")
    assert lookups("hit") == hits + 1
    assert again == first
    assert dict(again)["extensions"]  # freshness is built on a hit as on a miss
    if held:
        assert operation == []
        return
    assert len(operation) == 1, operation  # one statement for the whole operation
    assert reads_counters(operation[0])
    assert not reads_a_read_model_table(operation[0].replace("change_counter", ""))


async def test_the_next_query_sees_a_write(world: World) -> None:
    async with served(world) as (_, ask):
        before = data_of(await ask(Role.ADMIN, PAGE, {"first": 2}))
        target = dict(dict(dict(before)["accounts"])["nodes"][0])
        old = target["name"]
        await ask(Role.ADMIN, PAGE, {"first": 2})  # kept
        assert await leased(ask.app) == (world.backend == "postgresql")
        try:
            await _rename(world, old, old + " Renamed")
            misses = lookups("miss")
            after = data_of(await ask(Role.ADMIN, PAGE, {"first": 2}))
            assert lookups("miss") == misses + 1  # the kept answer was refused
        finally:
            await _rename(world, old + " Renamed", old)
        restored = data_of(await ask(Role.ADMIN, PAGE, {"first": 2}))

    names = {dict(n)["id"]: dict(n)["name"] for n in dict(dict(after)["accounts"])["nodes"]}
    assert names.get(target["id"]) == old + " Renamed"
    assert restored == before


async def test_a_table_without_its_counter_row_is_never_kept(world: World) -> None:
    """A counted table whose ``change_counter`` row is gone reads as null before and after a
    write: an answer kept with it would never be refused (before the mend, the rename below
    was not seen)."""
    async with world.engine.begin() as conn:
        gone = "DELETE FROM change_counter WHERE name = 'account' RETURNING value"
        value = (await conn.execute(text(gone))).scalar_one()
    try:
        async with served(world) as (_, ask):
            before = data_of(await ask(Role.ADMIN, PAGE, {"first": 2}))
            hits = lookups("hit")
            assert data_of(await ask(Role.ADMIN, PAGE, {"first": 2})) == before
            assert lookups("hit") == hits  # nothing was kept
            target = dict(dict(dict(before)["accounts"])["nodes"][0])
            old = target["name"]
            try:
                await _rename(world, old, old + " Renamed")
                after = data_of(await ask(Role.ADMIN, PAGE, {"first": 2}))
            finally:
                await _rename(world, old + " Renamed", old)
    finally:
        async with world.engine.begin() as conn:
            back = "INSERT INTO change_counter (name, value) VALUES ('account', :v)"
            await conn.execute(text(back), {"v": value + 1})
    names = {dict(n)["id"]: dict(n)["name"] for n in dict(dict(after)["accounts"])["nodes"]}
    assert names.get(target["id"]) == old + " Renamed"


async def _rename(world: World, old: str, new: str) -> None:
    """A write by SQL, followed (as clientgraph's own writers do, in its transaction) by the
    refresh of the stored figures it left stale: the world is shared, and the compiled-path
    tests after this one expect every account's figures current."""
    async with world.engine.begin() as conn:
        await conn.execute(text("UPDATE account SET name = :new WHERE name = :old"), locals())
        await refresh_stale(conn, FIRM_TODAY)


async def test_callers_with_other_rules_never_share_an_answer(world: World) -> None:
    """Every role asks what every other role asked just before (its answer kept): each gets
    exactly what its own uncached request gets."""
    async with served(world, response_cache_mb=0) as (_, uncached):
        expected = {role: await uncached(role, PAGE, {"first": 50}) for role in ROLES}
    async with served(world) as (_, ask):
        for order in (ROLES, tuple(reversed(ROLES))):
            for role in order:
                assert data_of(await ask(role, PAGE, {"first": 50})) == data_of(expected[role])
    partner, admin = data_of(expected[Role.PARTNER]), data_of(expected[Role.ADMIN])
    assert partner != admin  # the test would prove nothing if they were the same


async def test_the_setting_turns_it_off(world: World) -> None:
    async with served(world, response_cache_mb=0) as (seen, ask):
        before = lookups("hit") + lookups("miss")
        for _ in range(2):
            await ask(Role.ADMIN, PAGE, {"first": 3})
        assert not any(reads_counters(s) for s in seen)
    assert lookups("hit") + lookups("miss") == before


def test_the_cache_counts_what_each_entry_costs_not_only_its_answer() -> None:
    """Many tiny answers under long keys (a padded document, big variables) stay within the
    budget: keys are 32-byte digests, and each entry costs its answer plus ENTRY_OVERHEAD."""
    from resolvers.response_cache import ENTRY_OVERHEAD, Entry, ResponseCache, entry_key

    cache = ResponseCache(100 * (ENTRY_OVERHEAD + 2))
    padded = "{ account(id: $id) { name } }" + " " * 100_000
    for i in range(1_000):
        key = entry_key((padded, None, "postgresql", ("admin",)), {"id": f"{i:0>50000}"})
        assert isinstance(key, bytes) and len(key) == 32
        cache.put(key, Entry("{}", (i,)))
    assert cache.size <= cache.max_bytes and len(cache._entries) == 100
    same = entry_key((padded, None, "postgresql", ("admin",)), {"id": f"{999:0>50000}"})
    assert cache.get(same) == Entry("{}", (999,))


HEALTH = """
query Health($first: Int) {
  accounts(first: $first) { nodes { id health { score asOf } } }
}
"""


async def test_a_compiled_answer_and_its_freshness_are_one_statement(world: World) -> None:
    """Cold (cache off) and on a hit alike, the request runs one statement in all: the plan's
    (or the counters') statement also reads ``sync_state`` for ``extensions.freshness``, which
    equals the per-field path's. Verified: reading freshness by its own query again makes 2."""
    async with served(world, compiled_reads=False) as (_, per_field):
        expected = await per_field(Role.ADMIN, HEALTH, {"first": 3})
    for cache_mb, lease in ((0, False), (64, False), (64, True)):
        graphql = {"response_cache_mb": cache_mb, "response_cache_lease": lease}
        async with served(world, **graphql) as (seen, ask):
            await ask(Role.ADMIN, HEALTH, {"first": 3})
            held = await leased(ask.app)
            seen.clear()
            answer = await ask(Role.ADMIN, HEALTH, {"first": 3})
            operation = [s for s in seen if "FROM api_key" not in s]  # the caller's key
            if held:  # a hit under the lease: its freshness is the lease's snapshot's
                assert operation == []
            else:
                assert len(operation) == 1, operation
                assert reads_counters(operation[0]) == (cache_mb > 0)
        assert answer == expected


async def test_health_as_of_is_kept_until_the_oldest_pull_moves(world: World) -> None:
    """An answer with ``health.asOf`` (the oldest successful pull) is cached; a pull that does
    not move the oldest keeps it (its freshness still current), one that does is seen at once."""
    rows = await _successful_pulls(world)
    assert len(rows) >= 2, rows
    oldest, newest = rows[0], rows[-1]
    async with served(world) as (_, ask):
        first = await ask(Role.ADMIN, HEALTH, {"first": 2})
        hits = lookups("hit")
        try:
            await _pulled(world, newest, newest.last_success_at + timedelta(seconds=1))
            again = await ask(Role.ADMIN, HEALTH, {"first": 2})
            assert lookups("hit") == hits + 1
            assert data_of(again) == data_of(first)
            moved = rows[1].last_success_at  # the oldest pull moves up to the next one
            await _pulled(world, oldest, moved)
            after = await ask(Role.ADMIN, HEALTH, {"first": 2})
        finally:
            await _pulled(world, oldest, oldest.last_success_at)
            await _pulled(world, newest, newest.last_success_at)
    as_of = {
        dict(dict(n)["health"])["asOf"] for n in dict(dict(data_of(after))["accounts"])["nodes"]
    }
    assert as_of == {moved.astimezone(UTC).isoformat()}, as_of
    freshness = dict(dict(after)["extensions"])["freshness"]
    assert dict(freshness)["oldestSourceSyncAt"] == moved.astimezone(UTC).isoformat()


async def _successful_pulls(world: World) -> list[Any]:
    """``sync_state``'s rows with a successful pull, the oldest first."""
    t = table_of(SyncState)
    async with world.engine.connect() as conn:
        query = select(t.c.system, t.c.object_type, t.c.last_success_at)
        pulled = query.where(t.c.last_success_at.is_not(None)).order_by(t.c.last_success_at)
        return list((await conn.execute(pulled)).all())


async def _pulled(world: World, row: Any, at: datetime) -> None:
    t = table_of(SyncState)
    async with world.engine.begin() as conn:
        await conn.execute(
            update(t)
            .where(t.c.system == row.system, t.c.object_type == row.object_type)
            .values(last_success_at=at)
        )


@pytest.mark.parametrize("world", ["postgresql"], indirect=True)  # PostgreSQL's wire
async def test_a_compiled_answer_is_one_statement_on_the_wire(world: World) -> None:
    """PostgreSQL receives one statement per compiled answer, cold or a hit: no BEGIN and
    ROLLBACK around it (counted by a proxy between the gateway and the server, as the bench
    does), and the caller's key lookup is one too. Verified: each in a transaction counts 3."""
    host_port = world.url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = free_port()
    with counting_proxy(host, int(port), proxy) as counter:
        proxied = world.url.replace(host_port, f"127.0.0.1:{proxy}")
        for cache_mb, lease in ((0, False), (64, False), (64, True)):
            graphql = {"response_cache_mb": cache_mb, "response_cache_lease": lease}
            async with served(world, proxied, **graphql) as (_, ask):
                await ask(Role.ADMIN, HEALTH, {"first": 3})
                assert await leased(ask.app) == lease
                counter.statements = 0
                for _ in range(3):
                    await ask(Role.ADMIN, HEALTH, {"first": 3})
                # each request: its caller's key looked up (one statement), then the answer
                # (none for a hit under the lease: its heartbeats, on a connection of their
                # own, are counted apart)
                per_request = 1 if lease else 2
                assert counter.statements == 3 * per_request, (cache_mb, counter.statements)


@pytest.mark.parametrize("cache_mb", [0, 64])
async def test_freshness_rows_are_read_once_per_change(world: World, cache_mb: int) -> None:
    """A compiled statement builds ``sync_state``'s rows only when their change counter is not
    the one the process holds the rows of (resolvers/planner/sync_states.py); a pull bumps it
    and is in the very next answer's freshness. Shown by breaking the rule on purpose: a row
    changed with its counter set back is *not* seen (the held rows answer), a pull is."""
    row = (await _successful_pulls(world))[0]
    async with world.engine.connect() as conn:  # (migration 0017's counter)
        assert (await conn.execute(text(f"SELECT {SYNC_VERSION}"))).scalar() is not None
    earlier = row.last_success_at - timedelta(days=3)  # the oldest pull, made older

    def oldest(answer: Any) -> str:
        return str(dict(dict(dict(answer)["extensions"])["freshness"])["oldestSourceSyncAt"])

    async with served(world, response_cache_mb=cache_mb) as (_, ask):
        try:
            first = oldest(await ask(Role.ADMIN, HEALTH, {"first": 2}))
            assert first == row.last_success_at.astimezone(UTC).isoformat()
            await _pulled_unannounced(world, row, earlier)
            assert oldest(await ask(Role.ADMIN, HEALTH, {"first": 2})) == first  # held rows
            await _pulled(world, row, earlier)  # a real write: the counter moves with it
            seen = oldest(await ask(Role.ADMIN, HEALTH, {"first": 2}))
            assert seen == earlier.astimezone(UTC).isoformat()
        finally:
            await _pulled(world, row, row.last_success_at)
        assert oldest(await ask(Role.ADMIN, HEALTH, {"first": 2})) == first


async def _pulled_unannounced(world: World, row: Any, at: datetime) -> None:
    """``_pulled``, then the counter set back to what it was: a write no reader is told of."""
    t = table_of(SyncState)
    async with world.engine.begin() as conn:
        before = (await conn.execute(text(f"SELECT {SYNC_VERSION}"))).scalar()
        await conn.execute(
            update(t)
            .where(t.c.system == row.system, t.c.object_type == row.object_type)
            .values(last_success_at=at)
        )
        if world.engine.dialect.name == "postgresql":
            await conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the bump, now
        await conn.execute(
            text("UPDATE change_counter SET value = :v WHERE name = 'sync_state'"), {"v": before}
        )


def hit_checks() -> float:
    return REGISTRY.get_sample_value("clientgraph_response_cache_checks_total") or 0.0


@pytest.mark.parametrize("world", ["postgresql"], indirect=True)  # the bare driver's
async def test_hits_at_once_share_their_check(world: World) -> None:
    """Hits asking at the same time are checked by one read of the counters, not one each
    (resolvers/planner/hit_check.py), and every answer is the kept one; a write is still seen
    by the next query (the tests above). Verified: with a check per hit, checks == hits.
    Under the counters' lease, none at all."""
    for lease in (False, True):
        async with served(world, response_cache_lease=lease) as (_, ask):
            first = await ask(Role.ADMIN, PAGE, {"first": 3})
            assert await leased(ask.app) == lease
            hits, checks = lookups("hit"), hit_checks()
            asked = (ask(Role.ADMIN, PAGE, {"first": 3}) for _ in range(24))
            answers = await asyncio.gather(*asked)
            hits, checks = lookups("hit") - hits, hit_checks() - checks
        assert all(answer == first for answer in answers)
        assert hits == 24
        if lease:
            assert checks == 0
        else:
            assert 1 <= checks <= hits / 2, checks
