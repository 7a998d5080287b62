"""One pooled connection at a time per request: every read of the request that goes through it
(the compiled statement, DataLoader batches, root lists, ``extensions.freshness``) runs in a
block of its own, one block at a time, on a connection checked out of the pool for the block.

Why: with a connection per DataLoader batch, 16 requests in flight held several connections
each, more than the pool keeps, and SQLAlchemy closed the overflow on release: a new PostgreSQL
session (TLS, type introspection, a cold prepared-statement cache) every few requests
(docs/benchmarks.md). One connection per request keeps the pool's connections — and their
prepared statements — in use.

``connect()`` has the shape of ``AsyncEngine.connect()``: a block gets a connection, alone, and
gives it back to the pool at its end (its read transaction rolled back), so no snapshot outlives
a block. A block nested inside a block of the same task gets the same connection without
waiting. Writes never go through it (they keep their own transaction on the engine).

Nothing is held between blocks: a request waiting for something else (a consistency token, a
resolver that reads on the engine itself, a stream's next event) holds no connection, so
requests in flight can never each hold one connection while waiting for a second (with the
pool exhausted, that would wait until the pool's timeout). The pool keeps its connections,
so a checkout is a hand-over, not a new session.
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
    """A request's reads, one block (and one pooled connection) at a time."""

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
            conn = await self.engine.connect()
            self._conn, self._holder = conn, task
            try:
                yield conn
            finally:
                self._conn, self._holder = None, None
                with contextlib.suppress(Exception):  # a broken one is discarded by the pool
                    await conn.close()  # back to the pool, its transaction rolled back
