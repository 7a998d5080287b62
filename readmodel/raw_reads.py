"""Statements on the bare asyncpg driver: the compiled read path's, and a mutation's acceptance.

A compiled answer is one prepared statement returning one row (resolvers/planner). Through
SQLAlchemy, that statement cost the gateway ~0.4 ms of CPU (pool checkout and return through
greenlets, the connection's execution options, the cursor adaptation, the result object) for
~0.1 ms on asyncpg itself (measured on the bench's unified view, 1,000 runs each), about half of
all the CPU a compiled request costs. ``RawReads`` keeps a few asyncpg connections of its own
and runs such a statement on one of them: the same SQL (SQLAlchemy compiles the ``text()``
once to ``$n`` placeholders), parameters, prepared-statement cache and server settings
(statement timeout, no TLS on loopback) as the engine's.

Accepting a command goes through connections of the same kind, a set of their own (the
gateway's ``raw_writes``: a write never waits behind a burst of reads for one;
resolvers/commands/accept.py): the command's one statement (``first``; its records' checks
inside it), the relay's DISPATCHED mark (``execute``) and, where the records are read first,
their read (``all``), each its own transaction. Through SQLAlchemy such statements cost the
gateway more CPU than the rest of the mutation (stop 32, when an acceptance was three of them:
2.8 → 1.4 ms per acceptance in process). Parameters are bound as SQLAlchemy binds them (by
name, through their types' bind processors: a ``UTCDateTime`` refuses a naive time here too);
rows are read by attribute, as a ``Row``.

What it keeps and costs, precisely:

- **Connections**: up to ``size`` (``graphql.compiled_statements_in_flight``, by default
  ``in_flight``: twice the cores for a database on this machine), opened when first needed,
  besides the engine's pool. Each statement is its own transaction (autocommit, as
  ``readmodel.db.autocommit``): nothing outlives it on the connection but prepared statements,
  so a connection goes back as it came (also after the server refused a statement: the
  planner's guards fail statements on purpose). One whose statement was cancelled (a request's
  deadline) or whose connection failed is never reused (an exception of the caller's own, a
  mutation's refusal, leaves it as it came): it is closed in the background, after
  asyncpg has asked the server to cancel the statement (within ``CLOSE_TIMEOUT_SECONDS``); a
  failed connection takes the idle ones with it (a restarted server: one request answered
  per field finds out for all, not one per kept connection).
  A caller finding all ``size`` in use waits for one.
- **Large statements**: asyncpg keeps a statement prepared only up to 15 KiB of SQL
  (``max_cacheable_statement_size``); a larger one (a front end's big document: three unified
  views in one query make 23 KiB) it parses, and PostgreSQL parses and plans, at every
  execution: 7.1 ms of the server's CPU and 0.49 ms of the gateway's per execution, against
  0.60 and 0.08 prepared (500 runs each). So each connection keeps its large statements
  prepared too, least recently used out first beyond ``LARGE_STATEMENTS_BYTES`` of SQL text
  (a prepared statement costs the server ~90 times its text: 2.1 MB for that one; the
  budget bounds a session's at ~90 MB). An evicted statement is closed on the server with
  the connection's next new one (asyncpg's own clean-up).
- **Counting**: every statement is reported to ``readmodel.db.on_statement`` listeners, as
  SQLAlchemy's ``before_cursor_execute`` reports the engine's (``count_statements``,
  ``/metrics``' statements per operation).
- **Not used** on SQLite, or when SQL is traced (``telemetry.exporter`` other than ``none``
  instruments SQLAlchemy: its spans are the statements'), where the engine runs them.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from readmodel.db import connect_kwargs, on_this_machine, statement_listeners

CLOSE_TIMEOUT_SECONDS = 5.0  # a connection's goodbye (and a cancelled statement's cancel)
ASYNCPG_CACHEABLE = 15 * 1024  # asyncpg's default max_cacheable_statement_size
LARGE_STATEMENTS_BYTES = 1024 * 1024
"""SQL text of the large statements (over ``ASYNCPG_CACHEABLE``) one connection keeps prepared."""


def in_flight(url: URL, pool_size: int) -> int:
    """How many statements to run at once by default: twice this machine's cores when the
    database is on this machine (a loopback host, a Unix socket), at most ``pool_size``; else
    ``pool_size``. Measured on the bench's 2-core machine, unified view at c=16: 4 at once
    gave the throughput of 8 or 20 with a p99 of 23–28 ms against 48–75 (8) and 62–124 (20):
    the backends beyond the cores only queue in the kernel, where they take the cores from
    the gateway process."""
    if on_this_machine(url):
        return max(1, min(pool_size, 2 * (os.cpu_count() or 1)))
    return pool_size


class RawRow:
    """A row read as SQLAlchemy's ``Row`` is read by the planner: ``row.name``, ``row._mapping``."""

    __slots__ = ("_mapping",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._mapping = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


class RawReads:
    """A few asyncpg connections to the engine's database, for one-row statements."""

    def __init__(self, engine: AsyncEngine, size: int, statement_timeout_ms: int | None) -> None:
        self.engine = engine
        self._kwargs = connect_kwargs(engine.url, statement_timeout_ms)
        self._idle: list[_Session] = []
        self._slots = asyncio.Semaphore(size)
        self._sql: WeakKeyDictionary[ClauseElement, Positional] = WeakKeyDictionary()
        self._closed = False
        self.opened = 0  # sessions opened so far
        self._closing: set[asyncio.Future[None]] = set()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[RawConnection]:
        """A connection for this block's statements; closed, not kept, if the block was
        cancelled or the connection failed (with the idle ones: ``OSError``, asyncpg's
        interface errors). The server refusing a statement, or the block raising its own
        exception, leaves it well and kept."""
        async with self._slots:
            session = self._idle_one() or await self._open()
            try:
                yield RawConnection(self, session)
            except asyncpg.PostgresError:  # the server refused a statement: the connection
                self._keep(session)  # is idle and well (no transaction was open), unless closed
                raise
            except asyncio.CancelledError:  # a deadline: this statement's connection only
                self._discard(session)
                raise
            except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError):  # the
                self._discard(session)  # connection failed (a restarted server, a broken
                idle, self._idle = self._idle, []  # network): so, likely, did the idle ones
                for other in idle:
                    self._discard(other)
                raise
            except Exception:  # the block's own (a mutation's refusal, a bug): its statements
                self._keep(session)  # had ended (one block, one task), the connection is well
                raise
            except BaseException:
                self._discard(session)
                raise
            self._keep(session)

    def _idle_one(self) -> _Session | None:
        """The last kept connection still open (asyncpg has seen the others end: a server
        restarted, a session terminated)."""
        while self._idle:
            session = self._idle.pop()
            if not session.conn.is_closed():
                return session
            session.conn.terminate()
        return None

    def _keep(self, session: _Session) -> None:
        if self._closed or session.conn.is_closed():  # (the server shutting down, say)
            session.conn.terminate()
        else:
            self._idle.append(session)

    def _discard(self, session: _Session) -> None:
        """Close the connection in the background: after a cancelled statement, asyncpg first
        asks the server to cancel it (``close`` waits for that; ``terminate`` would drop the
        request and leave the statement running on the server until its timeout)."""
        closing = asyncio.ensure_future(_close(session.conn))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _open(self) -> _Session:
        conn = await asyncpg.connect(**self._kwargs)
        self.opened += 1
        return _Session(conn, LargeStatements(conn, LARGE_STATEMENTS_BYTES))

    def positional(self, statement: ClauseElement) -> Positional:
        """The statement's SQL with ``$n`` placeholders, the parameter names in their order and
        their types' bind processors (compiled by the engine's dialect once per statement)."""
        found = self._sql.get(statement)
        if found is None:
            dialect = self.engine.dialect
            compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
            names = tuple(compiled.positiontup or ())
            binds = compiled.binds  # by the names the SQL gives them
            processors = tuple(
                binds[n].type.dialect_impl(dialect).bind_processor(dialect) if n in binds else None
                for n in names
            )
            found = Positional(compiled.string, names, processors)
            self._sql[statement] = found
        return found

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for session in idle:
            await _close(session.conn)
        if self._closing:
            await asyncio.gather(*self._closing)


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await conn.close(timeout=CLOSE_TIMEOUT_SECONDS)
    except Exception:  # a broken connection: nothing to say goodbye to
        conn.terminate()


@dataclass(frozen=True)
class _Session:
    """A connection, and the large statements it keeps prepared."""

    conn: asyncpg.Connection
    large: LargeStatements


@dataclass(frozen=True)
class Positional:
    """A statement as asyncpg takes it: SQL with ``$n``, and its parameters' names in order with
    the bind processor of each one's type (``None``: passed as is)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            params[n] if p is None else p(params[n])
            for n, p in zip(self.names, self.processors, strict=True)
        ]


class RawConnection:
    """One kept connection, for a block; each statement is its own transaction."""

    def __init__(self, reads: RawReads, session: _Session) -> None:
        self._reads = reads
        self._session = session

    @property
    def engine(self) -> AsyncEngine:
        """The engine whose database this is (for what the bare driver does not run)."""
        return self._reads.engine

    def _bound(self, statement: ClauseElement, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and arguments of ``statement`` with ``params`` (bound by name, as SQLAlchemy
        binds them), reported to the statement listeners."""
        positional = self._reads.positional(statement)
        for listener in statement_listeners(self._reads.engine):
            listener(positional.sql)
        return positional.sql, positional.args(params)

    async def first(self, statement: ClauseElement, params: Mapping[str, Any]) -> RawRow | None:
        """The first row of ``statement`` with ``params``, if any."""
        sql, args = self._bound(statement, params)
        if len(sql) > ASYNCPG_CACHEABLE:
            prepared = await self._session.large.prepared(sql)
            record = await prepared.fetchrow(*args)
        else:
            record = await self._session.conn.fetchrow(sql, *args)
        return None if record is None else RawRow(record)

    async def one(self, statement: ClauseElement, params: Mapping[str, Any]) -> RawRow:
        """The one row of ``statement`` with ``params``."""
        row = await self.first(statement, params)
        if row is None:  # pragma: no cover - the planner's statements select one row
            raise LookupError("the statement returned no row")
        return row

    async def all(self, statement: ClauseElement, params: Mapping[str, Any]) -> list[RawRow]:
        """Every row of ``statement`` (a small one: kept prepared by asyncpg's own cache)."""
        sql, args = self._bound(statement, params)
        return [RawRow(record) for record in await self._session.conn.fetch(sql, *args)]

    async def execute(self, statement: ClauseElement, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it touched (from its status:
        "UPDATE 3", "INSERT 0 1"; 0 for one that does not count, "CREATE TABLE")."""
        sql, args = self._bound(statement, params)
        count = (await self._session.conn.execute(sql, *args)).rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0


Reading = AsyncConnection | RawConnection
"""A connection a mutation's checks read on: the engine's, or a bare one (``live_records``)."""


class LargeStatements:
    """One connection's prepared statements too large for asyncpg's own cache, by SQL text,
    least recently used out first once their text exceeds ``max_bytes``."""

    def __init__(self, conn: asyncpg.Connection, max_bytes: int) -> None:
        self._conn = conn
        self._max_bytes = max_bytes
        self._bytes = 0
        self._kept: OrderedDict[str, asyncpg.prepared_stmt.PreparedStatement] = OrderedDict()

    def __contains__(self, sql: str) -> bool:
        return sql in self._kept

    async def prepared(self, sql: str) -> asyncpg.prepared_stmt.PreparedStatement:
        found = self._kept.get(sql)
        if found is not None:
            self._kept.move_to_end(sql)
            return found
        found = await self._conn.prepare(sql)
        if len(sql) <= self._max_bytes:  # else used once, then closed
            self._kept[sql] = found
            self._bytes += len(sql)
            while self._bytes > self._max_bytes:
                old, _ = self._kept.popitem(last=False)  # closed on the server by asyncpg
                self._bytes -= len(old)
        return found
