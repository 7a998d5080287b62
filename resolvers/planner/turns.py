"""How many compiled statements run at once on the embedded SQLite database.

SQLite runs a statement in the gateway's own process (aiosqlite: a thread per pooled
connection), so statements beyond the cores only contend with each other and the event loop
for the cores and the GIL. Measured on the bench's 2-core machine (S, portfolio list, c=16,
wrk 8 s, two rounds each): the pool's 15 connections at once 173–179 req/s, p99 139–148 ms; 4
at once 195–206 req/s; 2 at once 223–225 req/s, p99 90–100 ms; 1 at once 218–222 req/s. So
by default as many as the cores (``graphql.compiled_statements_in_flight`` sets another
number); more wait their turn, within their request's deadline. Other reads and the writes
keep the pool as it is. A turn is taken before the request's connection, never while holding
one (so turns and connections cannot wait on each other); a turn may wait, held, for the
pool's connection. PostgreSQL's compiled
statements have their own bound: readmodel/raw_reads.py.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any
from weakref import WeakKeyDictionary

_turns: WeakKeyDictionary[Any, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = (
    WeakKeyDictionary()
)


def turns(engine: Any, size: int | None) -> asyncio.Semaphore | None:
    """The turns of ``engine``'s compiled statements on SQLite (``size`` at once, or the cores);
    ``None`` for another database. ``engine``: an ``AsyncEngine`` or its sync ``Engine`` (what
    ``AsyncEngine.engine`` gives), one set of turns for both, per event loop."""
    if engine.dialect.name != "sqlite":
        return None
    key = getattr(engine, "sync_engine", engine)
    loop = asyncio.get_running_loop()
    found = _turns.get(key)
    if found is None or found[0] is not loop:
        found = (loop, asyncio.Semaphore(size or os.cpu_count() or 1))
        _turns[key] = found
    return found[1]
