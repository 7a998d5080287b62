"""One pooled connection per request: every read of the request that goes through it (the
compiled statement, DataLoader batches, root lists, ``extensions.freshness``) runs on the same
connection, one statement at a time.

Why: with a connection per DataLoader batch, 16 requests in flight held several connections
each, more than the pool keeps, and SQLAlchemy closed the overflow on release: a new PostgreSQL
session (TLS, type introspection, a cold prepared-statement cache) every few requests
(docs/benchmarks.md). One connection per request keeps the pool's connections — and their
prepared statements — in use.

``connect()`` has the shape of ``AsyncEngine.connect()``: a block gets the connection, alone;
at its end the block's read transaction is rolled back (what closing a pooled connection
does), so no snapshot outlives a block. A block nested inside a block of the same task gets the
same connection without waiting. Writes never go through it (they keep their own transaction
on the engine). The connection returns to the pool when the request ends (``close``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Reads(Protocol):
    """What reads need of an engine: ``AsyncEngine`` or a request's ``RequestConnection``."""

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    @property
    def dialect(self) -> Any: ...


class RequestConnection:
    """A request's connection, checked out at its first read and kept until ``close``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @property
    def dialect(self) -> Any:
        return self.engine.dialect

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        task = asyncio.current_task()
        if self._conn is not None and self._holder is task:  # nested in this task's block
            yield self._conn
            return
        async with self._lock:
            if self._conn is None:
                self._conn = await self.engine.connect()
            conn, self._holder = self._conn, task
            try:
                yield conn
            finally:
                self._holder = None
                await self._end_block(conn)

    async def _end_block(self, conn: AsyncConnection) -> None:
        try:
            if conn.in_transaction():
                await conn.rollback()
        except Exception:  # a broken connection: the next block checks out another
            self._conn = None
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        """Give the connection back to the pool (a no-op if the request never read)."""
        async with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await conn.close()
