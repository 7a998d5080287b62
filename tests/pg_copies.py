"""PostgreSQL copies of the migrated template, made ahead of the tests and dropped behind them.

``CREATE DATABASE … TEMPLATE`` and ``DROP DATABASE`` each cost 0.1–2 s on a busy 2-core
machine (WAL for every page, a checkpoint on some drops): five times what a typical test
itself takes. A ``Copies`` keeps a couple of copies ready and drops used ones on a thread and
event loop of its own, so that work overlaps the tests instead of adding to them. Each copy is
still new and used by one test only; ``synchronous_commit`` is off in it (a test never needs
its commits to survive a crash of the server, and each commit then skips a WAL flush).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
READY = 2  # copies made ahead: enough to hide a creation behind a test, little disk


class Copies:
    """Copies of ``template`` on ``server`` (``user@host:port``); one per process and template."""

    def __init__(self, server: str, template: str) -> None:
        self._server, self._template = server, template
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._ready: asyncio.Queue[str] = self._call(self._queue())
        self._drops: set[asyncio.Future[None]] = set()
        self._filling: asyncio.Future[None] | None = None

    async def take(self) -> str:
        """The name of a new copy of the template, for the caller alone."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._take(), self._loop))

    def give_back(self, name: str) -> None:
        """Drop ``name`` in the background (open connections to it are closed by force)."""
        self._loop.call_soon_threadsafe(self._drop_later, name)

    def close(self) -> None:
        """Drop every copy, waiting for the drops under way; stop the thread."""
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    # --- on the copies' own loop ------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _queue(self) -> asyncio.Queue[str]:
        return asyncio.Queue()

    async def _take(self) -> str:
        while self._ready.empty():
            self._refill()
            assert self._filling is not None
            await self._filling  # raises what the server said, to the test that asked
        name = self._ready.get_nowait()
        self._refill()
        return name

    def _refill(self) -> None:
        if self._filling is None or self._filling.done():
            self._filling = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        connection = await self._connect()
        try:
            while self._ready.qsize() < READY:
                name = f"cg_test_{uuid.uuid4().hex[:12]}"
                await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
                await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
                self._ready.put_nowait(name)
        finally:
            await connection.close()

    def _drop_later(self, name: str) -> None:
        drop = asyncio.ensure_future(self._drop(name))
        self._drops.add(drop)
        drop.add_done_callback(self._drops.discard)

    async def _drop(self, name: str) -> None:
        connection = await self._connect()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    async def _close(self) -> None:
        if self._filling is not None:
            await asyncio.gather(self._filling, return_exceptions=True)
        while not self._ready.empty():
            self._drop_later(self._ready.get_nowait())
        await asyncio.gather(*self._drops, return_exceptions=True)

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(f"postgresql://{self._server}/postgres", timeout=30)
