"""The change counters' lease: response-cache hits with no statement at all, still exact.

A hit is served only with counters no older than the request (resolvers/response_cache.py);
without a lease, a statement re-reads them (hit_check.py). A process that holds ``SHARE`` on
``cg_cache_guard`` (migration 0022) needs none: every committing writer of a counted table
(``sync_state`` included) first takes ``ROW EXCLUSIVE`` on that table, so while the lock is
held nothing changes what the process read when it took it (in the same transaction, after
the lock). So, for as long as the lease runs, a hit compares its entry's counters with that
snapshot and answers; no round trip, nothing on the database.

How the lock is held and given up, on a connection of its own:

1. ``BEGIN; LOCK TABLE cg_cache_guard IN SHARE MODE NOWAIT`` (a writer committing or waiting:
   try again after ``LET_GO_SECONDS``; a gateway never queues for the lock, so no writer ever
   queues behind a gateway's request), then one statement reads the snapshot
   (hit_check.statement) and whether anything waits for the table, rolled back to a savepoint
   (its locks on ``change_counter`` and ``sync_state`` go: only the guard's is held).
2. While nothing waits, ``cg_cache_guard_heartbeat`` runs back to back: it returns after
   ``HEARTBEAT_SECONDS`` whether anything waits for a lock the session holds (a writer for
   the table, a ``CREATE INDEX CONCURRENTLY`` for its transaction). Each "none" renews the
   lease until the heartbeat's *sending* time plus half of ``cg_cache_guard_evict_ms()``.
3. A writer that finds the lock held cancels the heartbeat (``pg_cancel_backend``) and waits;
   a heartbeat that sees a waiter returns at once. Either way the lease ends here, *before*
   the ``ROLLBACK`` lets the writer commit; after ``LET_GO_SECONDS`` (writes come in bursts:
   a sync page, then the next) step 1 again.
4. A process that does not let go in ``cg_cache_guard_evict_ms()`` (stopped, or its event loop
   stalled) has its session terminated by the writer, who then commits. Its lease ran out
   first: the last heartbeat that saw no waiter was sent before the writer began to wait, and
   renewed the lease for half the writer's wait at most. Until the process holds the lock
   again, its hits check the counters by a statement, as without a lease.
5. A session killed (or crashed) loses the table before its gateway knows. So the session is
   registered (``cg_lease_holder``) and holds a let-go lock whenever it does not hold the
   table (taken after the lease ended and before the ``ROLLBACK``; dropped once the table is
   held again, before the lease starts): a writer that finds a registered session holding
   neither waits half the eviction time, the longest lease, before it commits.

Its clock is ``CLOCK_BOOTTIME`` (it runs on while the host is suspended).

The cost is on writers, at commit: one ``LOCK TABLE`` (a fast-path lock when no gateway holds
the table), and when one does, a cancel and a wait for the gateways' ``ROLLBACK`` — a round
trip and their event loops' delay, ~1 ms on one machine; at most one such wait per gateway per
``LET_GO_SECONDS`` under a stream of writes. PostgreSQL only (the embedded SQLite default
reads its counters from its own file per hit); off with ``graphql.response_cache_lease``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from weakref import WeakKeyDictionary

import asyncpg

from clientgraph.metrics import LEASES
from readmodel.db import connect_kwargs
from readmodel.raw_reads import RawReads, RawRow
from resolvers.planner import sync_states
from resolvers.planner.dialect import Dialect
from resolvers.planner.hit_check import Snapshot, snapshot_of, statement

log = logging.getLogger(__name__)


BOOTTIME = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def _now() -> float:
    """Seconds on a clock that also runs while the host is suspended (a lease must not outlive
    its time across a suspend, as ``time.monotonic`` would on Linux)."""
    return time.clock_gettime(BOOTTIME)

HEARTBEAT_SECONDS = 0.15
LET_GO_SECONDS = 0.05
RETRY_SECONDS = (0.1, 0.5, 2.0, 5.0)  # reconnecting after a failure, then every 5 s
CLOSE_SECONDS = 2.0
LOST = asyncpg.InternalClientError  # asyncpg's, on a session ended mid-statement
FREE = ", NOT cg_cache_guard_waited() AS cg_free"
HEARTBEAT = "SELECT cg_cache_guard_heartbeat($1)"
LET_GO_KEY = 1667720810  # migration 0022: held by a lease session while it holds no table
LET_GO_HELD = (
    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
    f"AND classid = {LET_GO_KEY} AND objid = pg_backend_pid() AND objsubid = 2"
)
TAKE_LET_GO = (
    f"SELECT pg_advisory_lock({LET_GO_KEY}, pg_backend_pid()) WHERE NOT EXISTS ({LET_GO_HELD})"
)
DROP_LET_GO = "SELECT pg_advisory_unlock_all()"  # (the session holds no other advisory lock)
REGISTER = (
    f"{TAKE_LET_GO}; SELECT nextval('cg_lease_registrations'); "
    "INSERT INTO cg_lease_holder (pid, backend_start) "
    "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
)
HEARTBEAT_TIMEOUT = HEARTBEAT_SECONDS + 10  # a network gone silent: lost, not hung
UNREGISTER_PID = "DELETE FROM cg_lease_holder WHERE pid = $1"
APPLICATION_NAME = "clientgraph counter lease"


class CounterLease:
    """The counters a process may use without reading them, while ``snapshot()`` gives them."""

    def __init__(self, raw: RawReads) -> None:
        self._raw = raw
        self._kwargs = {
            **connect_kwargs(raw.engine.url, None),
            "server_settings": {
                "application_name": APPLICATION_NAME,
                "idle_in_transaction_session_timeout": "0",
                "statement_timeout": "0",
            },
        }
        sa_dialect = raw.engine.dialect
        self._read = raw.positional(statement(Dialect(sa_dialect.name, sa_dialect), FREE))
        self._snapshot: Snapshot | None = None
        self._until = 0.0  # _now() before which the snapshot holds
        self._task: asyncio.Task[None] | None = None
        self._pid: int | None = None  # the lease session's server process
        self._let_go = False  # whether it holds its let-go lock (migration 0022)
        self._stopping = False

    def snapshot(self) -> Snapshot | None:
        """Every counter as it is now, or ``None`` when the lease is not held (check by a
        statement)."""
        if _now() < self._until:
            return self._snapshot
        return None

    async def taken(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the lease to hold (a gateway just started, a
        writer just committed); whether it holds."""
        deadline = _now() + timeout
        while self.snapshot() is None and _now() < deadline:
            await asyncio.sleep(0.01)
        return self.snapshot() is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._hold(), name="counter lease")

    async def aclose(self) -> None:
        """Let go and close the session, unregistered first (a writer then has no lost lease
        to wait out), on a connection of its own: a round trip or two, not a heartbeat."""
        self._until = 0.0
        self._stopping = True
        task, pid = self._task, self._pid
        if task is None:
            return
        if pid is not None and not task.done():
            with contextlib.suppress(Exception):
                other = await asyncpg.connect(**{**self._kwargs, "timeout": CLOSE_SECONDS})
                try:
                    await other.execute(UNREGISTER_PID, pid)
                finally:
                    await other.close(timeout=CLOSE_SECONDS)
        task.cancel()  # the session is terminated: its lock goes with it
        await asyncio.gather(task, return_exceptions=True)

    async def _hold(self) -> None:
        failures = 0
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(**self._kwargs)
                self._pid = conn.get_server_pid()
                self._let_go = False
                lease = await conn.fetchval("SELECT cg_cache_guard_evict_ms()") / 2000
                await conn.execute(REGISTER)  # committed, its let-go lock held, before the
                self._let_go = True  # table is first taken
                failures = 0
                while True:  # until aclose cancels it
                    await self._turn(conn, lease)
                    await asyncio.sleep(LET_GO_SECONDS)
            except (
                asyncpg.UndefinedFunctionError,
                asyncpg.UndefinedTableError,
                asyncpg.InsufficientPrivilegeError,
            ) as error:  # a deployment not migrated yet, or a role without the rights
                if failures < len(RETRY_SECONDS):  # (once, not at every retry)
                    log.warning("no counter lease for now: %s (docs/operations.md)", error)
                failures = len(RETRY_SECONDS)  # then every RETRY_SECONDS[-1]
            except (
                OSError,
                TimeoutError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                LOST,
            ) as error:
                if not self._stopping:
                    LEASES.labels("lost").inc()
                    lost = type(error).__name__
                    log.info("counter lease lost (%s): hits read the counters", lost)
            finally:
                self._until = 0.0
                self._pid = None
                if conn is not None:
                    conn.terminate()  # a lock still held goes with the session
            if not self._stopping:
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures = min(failures + 1, len(RETRY_SECONDS))

    async def _turn(self, conn: asyncpg.Connection, lease: float) -> None:
        """Take the lock, read the counters, hold it while nothing waits; let go. What runs
        under the lock runs in a savepoint: a writer's cancel aborts that, not the lock,
        which goes only with the ``ROLLBACK`` after the lease ended; and the counters' read
        is rolled back to it, so the transaction holds no lock but the guard's. The let-go
        lock (migration 0022) is held whenever the table is not: dropped only once the table
        is held, and taken again after the lease ended, before the ``ROLLBACK``."""
        await conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        held = False
        try:
            # NOWAIT: a gateway never queues for it (writers would queue behind its request)
            await conn.execute("LOCK TABLE cg_cache_guard IN SHARE MODE NOWAIT; SAVEPOINT cg_held")
            held = True
            sent = _now()
            known = sync_states.held(self._raw.engine)
            args = self._read.args({sync_states.KNOWN: known.version})
            row = RawRow(await conn.fetchrow(self._read.sql, *args))
            # the read's locks on change_counter and sync_state go (held, they would stop
            # their DDL, TRUNCATE included, for as long as the lease): only the guard's stays
            await conn.execute("ROLLBACK TO SAVEPOINT cg_held")
            if not row.cg_free or self._stopping:
                return
            await conn.execute(DROP_LET_GO)  # the table is held: the let-go lock goes
            self._let_go = False
            self._snapshot = snapshot_of(self._raw.engine, known, row)
            self._until = sent + lease  # (only now: never with both locks held)
            LEASES.labels("taken").inc()
            while True:
                sent = _now()
                free = await conn.fetchval(HEARTBEAT, HEARTBEAT_SECONDS, timeout=HEARTBEAT_TIMEOUT)
                if not free or self._stopping:
                    return
                self._until = sent + lease
        except asyncpg.QueryCanceledError:  # a writer asked (or aclose): let go
            return
        except asyncpg.LockNotAvailableError:  # a writer commits (or waits): next time
            return
        finally:
            self._until = 0.0  # before the lock goes: no hit from memory past here
            if self._stopping:
                conn.terminate()  # aclose: the session goes, and its lock with it
            elif not conn.is_closed():
                try:
                    await self._let_go_in_order(conn, held)
                except BaseException:  # the session failed (ended, cancelled mid-statement)
                    conn.terminate()  # and its lock with it
                    raise

    async def _let_go_in_order(self, conn: asyncpg.Connection, held: bool) -> None:
        """The let-go lock, then ``ROLLBACK`` (one round trip): writers see this session let
        go in order. If the transaction cannot take it (aborted outside the savepoint), the
        ``ROLLBACK`` first: a writer meanwhile waits this lease out, as for a lost one."""
        if held and not self._let_go:
            try:
                await conn.execute(f"ROLLBACK TO SAVEPOINT cg_held; {TAKE_LET_GO}; ROLLBACK")
                self._let_go = True
                return
            except asyncpg.PostgresError:
                pass
        await conn.execute("ROLLBACK")
        if not self._let_go:
            await conn.execute(TAKE_LET_GO)
            self._let_go = True


_leases: WeakKeyDictionary[RawReads, CounterLease] = WeakKeyDictionary()


def start(raw: RawReads) -> CounterLease:
    """Hold the lease for ``raw``'s database in this process (until ``aclose``)."""
    lease = _leases[raw] = CounterLease(raw)
    lease.start()
    return lease


def leased(raw: RawReads) -> Snapshot | None:
    """The counters of ``raw``'s database if this process holds their lease now, else None."""
    lease = _leases.get(raw)
    return None if lease is None else lease.snapshot()
