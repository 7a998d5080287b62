"""The compiled statements' own asyncpg connections (readmodel/raw_reads.py), on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import connect_kwargs, count_statements
from readmodel.raw_reads import LargeStatements, RawReads
from readmodel.types import UTCDateTime
from tests.conftest import running_app

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ROW = text("SELECT CAST(:n AS BIGINT) + 1 AS next, CAST(:word AS TEXT) AS word, :n AS n")


async def test_a_row_is_read_by_name_and_counted_as_the_engines(engine: AsyncEngine) -> None:
    seen = count_statements(engine)
    reads = RawReads(engine, 2, statement_timeout_ms=None)
    try:
        async with reads.connect() as conn:
            row = await conn.one(ROW, {"word": "ok", "n": 41})
    finally:
        await reads.aclose()
    assert (row.next, row.word, row._mapping["n"]) == (42, "ok", 41)
    assert seen == ["SELECT CAST($1 AS BIGINT) + 1 AS next, CAST($2 AS TEXT) AS word, $1 AS n"]
    with pytest.raises(AttributeError):
        row.missing  # noqa: B018


async def test_the_callers_own_exception_keeps_the_connection(engine: AsyncEngine) -> None:
    """A block that raises on its own (a mutation's refusal), its statements ended: the
    connection goes back as it came, the idle ones with it."""
    reads = RawReads(engine, 2, statement_timeout_ms=None)
    try:
        async with reads.connect() as conn:
            pid = (await conn.one(text("SELECT pg_backend_pid() AS pid"), {})).pid
        with pytest.raises(ValueError, match="refused"):
            async with reads.connect() as conn:
                await conn.one(text("SELECT 1 AS one"), {})
                raise ValueError("refused by the caller")
        async with reads.connect() as conn:
            again = (await conn.one(text("SELECT pg_backend_pid() AS pid"), {})).pid
    finally:
        await reads.aclose()
    assert again == pid and reads.opened == 1


async def test_rows_and_writes_bind_as_the_engine_binds(engine: AsyncEngine) -> None:
    """``first`` (no row: ``None``), ``all`` and ``execute`` (how many rows it touched), with
    each parameter's type doing what it does on the engine: a ``UTCDateTime`` refuses a naive
    time and stores an aware one as the same instant."""
    stamp = bindparam("at", type_=UTCDateTime)
    made = text("CREATE TEMP TABLE IF NOT EXISTS t (n int, at timestamptz)")
    insert = text("INSERT INTO t VALUES (:n, :at)").bindparams(stamp)
    bump = text("UPDATE t SET n = n + 1 WHERE n >= :n")
    some = text("SELECT n, at FROM t WHERE n >= :n ORDER BY n")
    aware = datetime(2026, 6, 30, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    reads = RawReads(engine, 1, statement_timeout_ms=None)
    try:
        async with reads.connect() as conn:
            await conn.execute(made, {})
            assert await conn.execute(insert, {"n": 1, "at": aware}) == 1
            assert await conn.execute(insert, {"n": 5, "at": aware}) == 1
            with pytest.raises(ValueError, match="naive datetime"):
                await conn.execute(insert, {"n": 9, "at": datetime(2026, 6, 30, 12, 0)})
            assert await conn.execute(bump, {"n": 2}) == 1
            rows = await conn.all(some, {"n": 0})
            assert await conn.first(some, {"n": 100}) is None
    finally:
        await reads.aclose()
    assert [(r.n, r.at) for r in rows] == [(1, aware), (6, aware)]
    assert rows[0].at.utcoffset() == timedelta(0)  # read back in UTC


async def test_a_refused_statement_keeps_its_connection_a_cancelled_one_does_not(
    engine: AsyncEngine,
) -> None:
    reads = RawReads(engine, 1, statement_timeout_ms=None)
    try:
        with pytest.raises(asyncpg.PostgresError):  # the planner's guards fail statements so
            async with reads.connect() as conn:
                await conn.one(text("SELECT CAST(CAST(:x AS TEXT) AS json) AS j"), {"x": "{"})
        async with reads.connect() as conn:
            pid = (await conn.one(text("SELECT pg_backend_pid() AS pid"), {})).pid
        assert reads.opened == 1  # the same session, well

        with pytest.raises(TimeoutError):  # a request's deadline: cancelled mid-statement
            async with asyncio.timeout(0.2), reads.connect() as conn:
                await conn.one(text("SELECT pg_sleep(30) AS slept"), {})
        async with reads.connect() as conn:
            again = (await conn.one(text("SELECT pg_backend_pid() AS pid"), {})).pid
        assert reads.opened == 2 and again != pid  # never reused: a new session
    finally:
        await reads.aclose()
    # the cancelled statement was cancelled on the server too (not left to sleep 30 s), and
    # both sessions end: the cancelled one terminated, the other closed by aclose
    for _ in range(50):
        async with engine.connect() as conn:
            left = await conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": [pid, again]},
            )
            if left.scalar() == 0:
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a session outlived its connection by 5 s")


async def test_a_statement_timeout_is_the_engines(engine: AsyncEngine) -> None:
    reads = RawReads(engine, 1, statement_timeout_ms=150)
    try:
        with pytest.raises(asyncpg.QueryCanceledError):
            async with reads.connect() as conn:
                await conn.one(text("SELECT pg_sleep(5) AS slept"), {})
        async with reads.connect() as conn:
            row = await conn.one(text("SELECT current_setting('statement_timeout') AS t"), {})
    finally:
        await reads.aclose()
    assert row.t == "150ms" and reads.opened == 1


@pytest.mark.parametrize("compiled_reads", [True, False])
async def test_the_gateway_keeps_them_only_for_compiled_reads_on_postgresql(
    engine: AsyncEngine, compiled_reads: bool
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    async with running_app(url, compiled_reads=compiled_reads) as app:
        assert (app.state.raw_reads is not None) == compiled_reads
    async with running_app("sqlite+aiosqlite:///:memory:") as app:
        assert app.state.raw_reads is None


async def test_sessions_ended_by_the_server_are_not_used_again(engine: AsyncEngine) -> None:
    """Kept connections whose sessions the server ended (a restart, an operator's
    ``pg_terminate_backend``) are left for new ones: no statement fails on them."""
    reads = RawReads(engine, 2, statement_timeout_ms=None)
    pid = text("SELECT pg_backend_pid() AS pid")
    pids: list[int] = []

    async def hold() -> None:
        async with reads.connect() as conn:
            pids.append((await conn.one(pid, {})).pid)
            await asyncio.sleep(0.05)  # both in use at once: two sessions kept

    try:
        await asyncio.gather(hold(), hold())
        assert reads.opened == 2
        async with engine.connect() as conn:
            await conn.execute(
                text("SELECT pg_terminate_backend(p) FROM unnest(CAST(:pids AS INT[])) p"),
                {"pids": pids},
            )
        await asyncio.sleep(0.3)
        for _ in range(2):
            async with reads.connect() as conn:
                now = (await conn.one(pid, {})).pid
        assert now not in pids and reads.opened == 3
    finally:
        await reads.aclose()


def large(tag: str) -> str:
    """A statement over asyncpg's 15 KiB cache limit (padded by a comment)."""
    return f"SELECT CAST(:n AS BIGINT) + 1 AS next, '{tag}' AS tag -- {'x' * 16_000}\n"


PREPARED = text(
    "SELECT count(*) AS n, coalesce(max(generic_plans + custom_plans), 0) AS runs "
    "FROM pg_prepared_statements WHERE statement LIKE :tag"
)


async def test_a_large_statement_is_prepared_once_per_connection(engine: AsyncEngine) -> None:
    """asyncpg would parse it (and PostgreSQL parse and plan it) at every execution.
    Verified: with the statement run by ``fetchrow`` as before, the server holds none."""
    reads = RawReads(engine, 1, statement_timeout_ms=None)
    statement = text(large("once"))
    try:
        for n in range(3):
            async with reads.connect() as conn:
                assert (await conn.one(statement, {"n": n})).next == n + 1
        async with reads.connect() as conn:
            held = await conn.one(PREPARED, {"tag": "%'once'%"})
    finally:
        await reads.aclose()
    assert (held.n, held.runs) == (1, 3)


async def test_large_statements_kept_are_bounded_by_their_text(engine: AsyncEngine) -> None:
    """Least recently used out first; an evicted one is closed on the server."""
    conn = await asyncpg.connect(**connect_kwargs(engine.url, None))
    try:
        kept = LargeStatements(conn, max_bytes=40_000)
        sql = {tag: large(tag).replace(":n", "$1") for tag in "abcd"}
        for tag in "abc":
            assert (await (await kept.prepared(sql[tag])).fetchrow(1))["next"] == 2
        assert sql["a"] not in kept and sql["b"] in kept and sql["c"] in kept
        await kept.prepared(sql["d"])  # (asyncpg closes the evicted before a new prepare)
        held = {r["statement"][:60] for r in await conn.fetch(
            "SELECT statement FROM pg_prepared_statements"
        )}  # fmt: skip
    finally:
        await conn.close()
    assert not any("'a'" in s for s in held)
    assert any("'c'" in s for s in held) and any("'d'" in s for s in held)
