"""A response-cache hit's check, shared by the hits that wait for one at the same time.

A kept answer is served only after a read of the change counters that *started after the
request asked* (resolvers/response_cache.py): every write committed before the request is then
seen. Hits that ask at the same time need a read that starts after each of them asked, not one
read each: one read serves every hit that asked before it started. A hit that asks while a
read is in flight waits for the next read (started as soon as that one ends) and never takes
the one in flight, whose snapshot may predate a write committed just before the hit asked. So
the guarantee is the per-hit check's; only the statements per hit fall, below one as hits
overlap.

The read takes every counter at once (``change_counter`` is a row per counted table), the
oldest successful pull (``OLDEST_SUCCESS``) and ``sync_state``'s rows for the answers'
``extensions.freshness`` (resolvers/planner/sync_states.py), in one statement: one snapshot.
It runs on PostgreSQL's bare connections (readmodel/raw_reads.py), once per database and
process; its statement is counted (``/metrics``' statements per operation) to the request that
asked first, none to the others, so the counts add up to what the database ran. The embedded
SQLite default checks each hit with its own statement of the plan's counters, as before.
While the process holds the counters' lease (lease.py) a hit needs no read at all: the lease's
snapshot, read with this statement, is current until a writer asks for the lock.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary, ref

from sqlalchemy import TextClause, text

from clientgraph.metrics import HIT_CHECKS
from readmodel.raw_reads import RawReads
from resolvers.planner import sync_states
from resolvers.planner.dialect import Dialect
from resolvers.response_cache import OLDEST_SUCCESS

T = TypeVar("T")


class SharedRead(Generic[T]):
    """``await shared.started_after_now()``: the value of a ``read()`` that started after this
    call, one read for every call made before it started."""

    def __init__(self, read: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._read = read
        self._next: asyncio.Future[T] | None = None  # the next read's, while callers wait
        self._first: contextvars.Context | None = None  # of its first caller: it runs there
        self._reading: asyncio.Task[None] | None = None

    async def started_after_now(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._first = contextvars.copy_context()
            if self._reading is None:
                self._reading = asyncio.create_task(self._reads_while_asked())
        # a caller cancelled (a deadline, a client gone) leaves the read to the others
        return await asyncio.shield(self._next)

    async def _reads_while_asked(self) -> None:
        asked: asyncio.Future[T] | None = None
        try:
            while self._next is not None:
                asked, first, self._next = self._next, self._first, None
                try:
                    value = await asyncio.create_task(self._read(), context=first)
                except Exception as error:  # each caller of this read raises it
                    asked.set_exception(error)
                    asked.exception()  # retrieved, though every caller may have gone
                else:
                    asked.set_result(value)
        except BaseException:  # cancelled (the loop closing): no caller waits forever
            for waiting in (asked, self._next):
                if waiting is not None and not waiting.done():
                    waiting.cancel()
            self._next = None
            raise
        finally:
            self._reading = None


@dataclass(frozen=True)
class Snapshot:
    """Every counter (by table), the oldest successful pull and ``sync_state``'s rows (JSON
    text), read by one statement."""

    counters: dict[str, int]
    oldest: Any
    sync_text: str

    def of(self, tables: tuple[str, ...]) -> tuple[Any, ...]:
        """What ``response_cache.Counters.of`` reads of a plan's statement, for its tables."""
        return tuple(self.oldest if t == "sync_state" else self.counters.get(t) for t in tables)


def statement(d: Dialect, more: str = "") -> TextClause:
    """The check's statement (``more``: further select-list items, ``, … AS name``)."""
    every = "(SELECT string_agg(name || '=' || CAST(value AS TEXT), ',') FROM change_counter)"
    return text(
        f"SELECT {every} AS cg_all, {OLDEST_SUCCESS} AS cg_oldest, {sync_states.column(d)}{more}"
    )


def snapshot_of(engine: Any, held: sync_states.Held, row: Any) -> Snapshot:
    """The ``Snapshot`` a row of ``statement`` holds (``held``: the rows' text bound to it)."""
    pairs = (item.split("=") for item in (row.cg_all or "").split(",") if item)
    counters = {name: int(value) for name, value in pairs}
    return Snapshot(counters, row.cg_oldest, sync_states.text_of(engine, held, row))


_shared: WeakKeyDictionary[RawReads, SharedRead[Snapshot]] = WeakKeyDictionary()


def shared_check(raw: RawReads) -> SharedRead[Snapshot]:
    """The process's shared check of ``raw``'s database (kept as long as ``raw``: the read
    holds it weakly, so an app's connections and engine go with the app)."""
    found = _shared.get(raw)
    if found is None:
        sa_dialect = raw.engine.dialect
        check = statement(Dialect(sa_dialect.name, sa_dialect))
        reads = ref(raw)

        async def read() -> Snapshot:
            raw = reads()
            if raw is None:  # pragma: no cover - its app is gone, and its requests with it
                raise RuntimeError("the read model's connections are closed")
            HIT_CHECKS.inc()
            held = sync_states.held(raw.engine)
            async with raw.connect() as conn:
                row = await conn.one(check, {sync_states.KNOWN: held.version})
            return snapshot_of(raw.engine, held, row)

        found = _shared[raw] = SharedRead(read)
    return found
