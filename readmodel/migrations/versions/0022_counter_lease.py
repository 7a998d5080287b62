"""cg_cache_guard: the change counters' lease, held by gateways between writes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:40:00.000000

Self-contained (the trigger text is written here, not imported). PostgreSQL only in effect:
the table is created on SQLite too (the models match on both) but nothing takes it there.

A gateway process that holds ``SHARE`` on the empty table ``cg_cache_guard`` knows that no
transaction can commit a counted change meanwhile, so it serves its response-cache hits from
the counters it read when it took the lock, with no statement (resolvers/planner/lease.py).
Writers are held off at their commit: the counters' deferred trigger (migration 0015's
``cg_bump_counters``) first takes ``ROW EXCLUSIVE`` on the table (``cg_take_cache_guard``),
which conflicts with ``SHARE`` only: writers never wait for each other here, nor gateways.

A writer that finds the lock held asks its holders to let go by cancelling their backends'
statement (``pg_cancel_backend``: a gateway's heartbeat, ``cg_cache_guard_heartbeat``, is always
running; the gateway stops serving from memory, then rolls back), and waits. A holder that does
not let go within ``cg_cache_guard_evict_ms()`` (a gateway process stopped, or stalled by its
own work) has its backend terminated (``pg_terminate_backend``), and the writer commits: by
then the stalled gateway's lease has run out (a gateway renews it only on a heartbeat that saw
no waiter, for half that time from the heartbeat's start), so it reads the counters again for
each hit until it holds the lock again. ``cg_take_cache_guard`` runs as its owner (``SECURITY
DEFINER``, the role that ran this migration, with its ``search_path``): any role that may
write a counted table may take the lock and register nothing else. Cancelling and terminating
need that owner to be the gateways' role, a superuser, or a member of ``pg_signal_backend``;
without that right the writer waits for the gateway's next heartbeat (it sees the waiter and
lets go) or for its connection to end.

A lease session that ends without letting go (killed by an operator, its server process
crashed) loses its lock at once, while its gateway may still serve from memory until its lease
runs out. So each lease session is registered in ``cg_lease_holder`` (committed before it
first takes the lock; deleted when it closes), and holds the session-level advisory lock
``(LET_GO_KEY, its pid)`` whenever it does not hold the table: it takes it after its gateway
stopped serving from memory and before its ``ROLLBACK``, and drops it once it holds the table
again. A committing writer (which holds the table, so no session does) that finds a
registered session holding neither did not see it let go in order: it waits half the eviction
time (the longest lease) once, and deletes its row (``cg_outlive_lost_leases``). Locks, not
``pg_stat_activity``: a dying backend releases its locks before its other traces go. A writer
in ``REPEATABLE READ`` or ``SERIALIZABLE`` (whose snapshot may predate a registration) waits
that time at every commit once any gateway has leased (``cg_lease_registrations``).

Under the lock the gateway reads in a savepoint and rolls back to it: its transaction holds no
lock on ``change_counter`` or ``sync_state`` (their DDL and ``TRUNCATE`` would wait for it);
its heartbeats run in that savepoint too, so a writer's cancel aborts the savepoint only, and
the lock stays until the gateway's own ``ROLLBACK``.

The heartbeat's check of ``pg_locks`` (anything waiting for a lock the session holds) also
covers a cancel that came between two statements (PostgreSQL drops those) and any other waiter:
a ``VACUUM`` or migration of the table, a ``CREATE INDEX CONCURRENTLY`` waiting for the
session's transaction to end.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import readmodel.types

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVICT_MS = 1000
CHANGED = "clientgraph.changed_tables"


HOLDERS = """
SELECT pid FROM pg_locks
WHERE locktype = 'relation' AND granted AND mode = 'ShareLock' AND pid <> pg_backend_pid()
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND relation = 'cg_cache_guard'::regclass
"""


LET_GO_KEY = 1667720810
"""``pg_advisory_lock(LET_GO_KEY, pid)``: held by a lease session whenever it does not hold
the table (taken before it lets go, dropped once it holds the table again)."""

THIS_DATABASE = "(SELECT oid FROM pg_database WHERE datname = current_database())"

LOST = f"""NOT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.pid AND l.database = {THIS_DATABASE}
      AND l.classid = {LET_GO_KEY} AND l.objid = h.pid AND l.objsubid = 2)"""

FUNCTIONS = (
    """
CREATE FUNCTION cg_cache_guard_waited() RETURNS boolean LANGUAGE sql AS $$
-- anything waiting for a lock this session holds: a writer for the table, a CREATE INDEX
-- CONCURRENTLY for its transaction, a VACUUM FULL of a catalog it read
SELECT EXISTS (
  SELECT 1 FROM pg_locks h JOIN pg_locks w
    ON w.locktype = h.locktype
   AND w.database IS NOT DISTINCT FROM h.database
   AND w.relation IS NOT DISTINCT FROM h.relation
   AND w.page IS NOT DISTINCT FROM h.page
   AND w.tuple IS NOT DISTINCT FROM h.tuple
   AND w.virtualxid IS NOT DISTINCT FROM h.virtualxid
   AND w.transactionid IS NOT DISTINCT FROM h.transactionid
   AND w.classid IS NOT DISTINCT FROM h.classid
   AND w.objid IS NOT DISTINCT FROM h.objid
   AND w.objsubid IS NOT DISTINCT FROM h.objsubid
  WHERE h.pid = pg_backend_pid() AND h.granted AND NOT w.granted AND w.pid <> h.pid)
$$
""",
    f"""
CREATE FUNCTION cg_cache_guard_evict_ms() RETURNS integer LANGUAGE sql IMMUTABLE AS
'SELECT {EVICT_MS}'
""",
    """
CREATE FUNCTION cg_cache_guard_heartbeat(seconds float8) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  -- false: a writer (or anything else) waits for this session; the caller lets go at once
  IF cg_cache_guard_waited() THEN
    RETURN false;
  END IF;
  PERFORM pg_sleep(seconds);
  RETURN NOT cg_cache_guard_waited();
END $$
""",
    f"""
CREATE FUNCTION cg_outlive_lost_leases() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- A registered lease session that holds neither the table (this writer holds it now) nor
  -- its let-go lock did not let go in order: killed, crashed, or dying right now (its locks go
  -- before its other traces). Its gateway may serve from memory until its lease runs out.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- this transaction's snapshot may predate a session's registration (its row unseen): once
    -- any gateway has leased (a sequence: read outside snapshots), wait any lease out
    IF (SELECT is_called FROM cg_lease_registrations) THEN
      PERFORM pg_sleep(cg_cache_guard_evict_ms() / 2000.0);
    END IF;
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM cg_lease_holder h WHERE {LOST}) THEN
    PERFORM pg_sleep(cg_cache_guard_evict_ms() / 2000.0);
    DELETE FROM cg_lease_holder h WHERE {LOST};
  END IF;
END $$
""",
    f"""
CREATE FUNCTION cg_take_cache_guard() RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  saved text := current_setting('lock_timeout');
  free boolean;
  holder int;
BEGIN
  BEGIN
    LOCK TABLE cg_cache_guard IN ROW EXCLUSIVE MODE NOWAIT;
    free := true;
  EXCEPTION WHEN lock_not_available THEN
    free := false;  -- a gateway holds it: ask it to let go
  END;
  IF NOT free THEN
    FOR holder IN {HOLDERS} LOOP
      BEGIN
        PERFORM pg_cancel_backend(holder);
      EXCEPTION WHEN insufficient_privilege THEN
        NULL;  -- its heartbeat sees this writer wait
      END;
    END LOOP;
    PERFORM set_config('lock_timeout', '{EVICT_MS}ms', true);
    LOOP
      BEGIN
        LOCK TABLE cg_cache_guard IN ROW EXCLUSIVE MODE;
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        -- a holder stalled past its lease: end its session (its lock goes with it), and
        -- wait again (another may have taken the table meanwhile)
        FOR holder IN {HOLDERS} LOOP
          BEGIN
            PERFORM pg_terminate_backend(holder);
            DELETE FROM cg_lease_holder WHERE pid = holder;  -- this wait outlived its lease
          EXCEPTION WHEN insufficient_privilege THEN
            NULL;
          END;
        END LOOP;
      END;
    END LOOP;
    PERFORM set_config('lock_timeout', saved, true);
  END IF;
  PERFORM cg_outlive_lost_leases();
END $$
""",
)

BUMP = """
CREATE OR REPLACE FUNCTION cg_bump_counters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[] := string_to_array(
    trim(BOTH ',' FROM coalesce(current_setting('{changed}', true), '')), ',');
BEGIN
{guard}  -- in name order, every writer the same: no deadlock between committing writers
  PERFORM 1 FROM change_counter WHERE name = ANY(changed) ORDER BY name FOR UPDATE;
  UPDATE change_counter SET value = value + 1 WHERE name = ANY(changed);
  PERFORM set_config('{changed}', '', true);
  DELETE FROM cg_change_marker WHERE xid = NEW.xid;
  RETURN NULL;
END $$
"""
GUARD = "  PERFORM cg_take_cache_guard();  -- no gateway serves from memory past this commit\n"


def upgrade() -> None:
    op.create_table(
        "cg_cache_guard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cg_cache_guard")),
    )
    op.create_table(
        "cg_lease_holder",
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("backend_start", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid", "backend_start", name=op.f("pk_cg_lease_holder")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE cg_lease_registrations")  # nextval by each registration
        for function in FUNCTIONS:
            op.execute(function)
        op.execute(BUMP.format(changed=CHANGED, guard=GUARD))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BUMP.format(changed=CHANGED, guard=""))
        for function in (
            "cg_take_cache_guard()",
            "cg_outlive_lost_leases()",
            "cg_cache_guard_heartbeat(float8)",
            "cg_cache_guard_evict_ms()",
            "cg_cache_guard_waited()",
        ):
            op.execute(f"DROP FUNCTION {function}")
        op.execute("DROP SEQUENCE cg_lease_registrations")
    op.drop_table("cg_lease_holder")
    op.drop_table("cg_cache_guard")
