"""The read model's database engine: SQLite (embedded) or PostgreSQL (production)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import URL, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from readmodel.request_connection import Reads

SQLITE_BUSY_TIMEOUT_MS = 5000
PREPARED_STATEMENTS_PER_CONNECTION = 1024
"""asyncpg's prepared statements kept per pooled connection (SQLAlchemy's default: 100): room
for the planner's 512 plans and the loaders' statements, so a hot statement is parsed and
planned by PostgreSQL once per connection."""
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def on_this_machine(url: URL) -> bool:
    """A server named as this machine's: a loopback host, or a Unix socket (``host=/…``). A URL
    without a host is not (libpq's ``PGHOST`` may name any server)."""
    return url.host in LOOPBACK or str(url.query.get("host", "")).startswith("/")


def _loopback(url: URL) -> bool:
    """``on_this_machine``, unless the environment asks for TLS (``PGSSLMODE``, ``PGSSL…``)."""
    if any(name.startswith("PGSSL") for name in os.environ):
        return False
    return on_this_machine(url)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    """Create the async engine for ``url``. Nothing connects until first use.

    SQLite gets WAL journaling (readers don't block the one writer), enforced foreign keys and
    a busy timeout. PostgreSQL gets a pool of ``pool_size`` asyncpg connections (kept; as many
    again in overflow, closed on release), no TLS to a server on this machine unless the URL
    asks for it (``ssl=`` / ``sslmode=``), 1024 prepared statements kept per connection and, with
    ``statement_timeout_ms``, a server-side cap on every statement (the gateway's engine: a
    read that runs longer is cancelled by PostgreSQL itself). Neither puts bound values in
    its error messages (``hide_parameters``): they end up in logs, and the values are callers'
    variables and source data.
    """
    if is_sqlite(url):
        engine = sa_asyncio.create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    parsed = make_url(url)
    connect_args = _connect_args(parsed, statement_timeout_ms)
    if "prepared_statement_cache_size" not in parsed.query:
        size = str(PREPARED_STATEMENTS_PER_CONNECTION)
        parsed = parsed.update_query_dict({"prepared_statement_cache_size": size})
    # looked up on the module at each call: tracing (clientgraph.telemetry) wraps it there
    return sa_asyncio.create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args=connect_args,
        hide_parameters=True,
    )


def _connect_args(url: URL, statement_timeout_ms: int | None) -> dict[str, Any]:
    """What the engine adds to asyncpg's connect arguments: the statement timeout, and no TLS
    to this machine's own server unless the URL asks for it."""
    connect_args: dict[str, Any] = {}
    if statement_timeout_ms is not None:
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    if _loopback(url) and not {"ssl", "sslmode"} & set(url.query):
        connect_args["ssl"] = False  # no TLS handshake to this machine's own server
    return connect_args


def connect_kwargs(url: URL, statement_timeout_ms: int | None) -> dict[str, Any]:
    """``asyncpg.connect``'s arguments for a PostgreSQL engine's ``url``, as the engine
    connects (readmodel/raw_reads.py): the dialect's own translation of the URL, its
    prepared-statement cache size, and ``_connect_args``."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    _, kwargs = dialect().create_connect_args(url)
    cache = kwargs.pop("prepared_statement_cache_size", PREPARED_STATEMENTS_PER_CONNECTION)
    for adapter_only in ("prepared_statement_name_func", "async_creator_fn"):
        kwargs.pop(adapter_only, None)
    kwargs["statement_cache_size"] = int(cache)
    return {**kwargs, **_connect_args(url, statement_timeout_ms)}


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # the compiled read path's ids and cursors (resolvers/planner); PostgreSQL has encode()
    dbapi_conn.create_function("cg_b64url", 1, b64url, deterministic=True)


def b64url(value: str | None) -> str | None:
    """Unpadded base64url of UTF-8 text, as global ids and cursors are made."""
    if value is None:
        return None
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def autocommit(engine: AsyncEngine | Reads) -> AsyncIterator[AsyncConnection]:
    """A pooled connection (of the engine, or a request's reads) on which every statement is
    its own transaction: a write of one statement is one round trip (no BEGIN / COMMIT),
    durable when ``execute`` returns; a read is one snapshot with no BEGIN / ROLLBACK around
    it. The pool gives the connection back in its usual isolation level."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


_listeners: WeakKeyDictionary[Any, list[Callable[[str], None]]] = WeakKeyDictionary()


def on_statement(engine: AsyncEngine, listener: Callable[[str], None]) -> None:
    """Call ``listener(sql)`` before every statement run on ``engine``'s database: by the
    engine itself (SQLAlchemy's ``before_cursor_execute``) or beside it on the bare driver
    (readmodel/raw_reads.py)."""
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: listener(a[2]))
    _listeners.setdefault(engine.sync_engine, []).append(listener)


def statement_listeners(engine: AsyncEngine) -> list[Callable[[str], None]]:
    """The ``on_statement`` listeners of ``engine``, for statements run beside it."""
    return _listeners.get(engine.sync_engine, [])


def count_statements(engine: AsyncEngine) -> list[str]:
    """Record every SQL statement the engine runs from now on (for N+1 tests and benchmarks)."""
    seen: list[str] = []
    on_statement(engine, seen.append)
    return seen
