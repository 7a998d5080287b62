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
runs out. So each lease session is registered in ``cg_lease_holder`` (pid and start, committed
before it first takes the lock; deleted when it closes): a writer that finds a registered
session gone waits half the eviction time (the longest lease) before it commits, once, and
deletes its row (``cg_outlive_lost_leases``; a session of a role the function's owner may not
see in full, without ``pg_read_all_stats``, counts as alive while its pid is).

Under the lock the gateway reads in a savepoint and rolls back to it: its transaction holds no
lock on ``change_counter`` or ``sync_state`` (their DDL and ``TRUNCATE`` would wait for it);
its heartbeats run in that savepoint too, so a writer's cancel aborts the savepoint only, and
the lock stays until the gateway's own ``ROLLBACK``.

The heartbeat's check of ``pg_locks`` (a waiter on the table) also covers a cancel that came
between two statements (PostgreSQL drops those) and any other waiter (a ``VACUUM`` of the
table, a migration).
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

GONE = """NOT EXISTS (
    SELECT 1 FROM pg_stat_get_activity(h.pid) a
    WHERE a.backend_start = h.backend_start OR a.backend_start IS NULL)"""
# (null: a session of another role, which this one may not see in full: alive by its pid)

FUNCTIONS = (
    """
CREATE FUNCTION cg_cache_guard_waited() RETURNS boolean LANGUAGE sql AS $$
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'relation' AND NOT granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND relation = 'cg_cache_guard'::regclass)
$$
""",
    f"""
CREATE FUNCTION cg_cache_guard_evict_ms() RETURNS integer LANGUAGE sql IMMUTABLE AS
'SELECT {EVICT_MS}'
""",
    """
CREATE FUNCTION cg_cache_guard_heartbeat(seconds float8) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  -- false: a writer (or anything else) waits for the table; the caller lets go at once
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
  -- a lease session that ended without letting go (killed, its server process crashed): its
  -- lock went with it, but its gateway may serve from memory until its lease runs out
  PERFORM pg_stat_clear_snapshot();  -- the sessions now, not as this transaction first saw
  IF EXISTS (SELECT 1 FROM cg_lease_holder h WHERE {GONE}) THEN
    PERFORM pg_sleep(cg_cache_guard_evict_ms() / 2000.0);
    DELETE FROM cg_lease_holder h WHERE {GONE};
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
    BEGIN
      LOCK TABLE cg_cache_guard IN ROW EXCLUSIVE MODE;
    EXCEPTION WHEN lock_not_available THEN
      -- a holder stalled past its lease: end its session (its lock goes with it)
      FOR holder IN {HOLDERS} LOOP
        BEGIN
          PERFORM pg_terminate_backend(holder);
          DELETE FROM cg_lease_holder WHERE pid = holder;  -- this wait outlived its lease
        EXCEPTION WHEN insufficient_privilege THEN
          NULL;
        END;
      END LOOP;
      PERFORM set_config('lock_timeout', '0', true);
      LOCK TABLE cg_cache_guard IN ROW EXCLUSIVE MODE;
    END;
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
    op.drop_table("cg_lease_holder")
    op.drop_table("cg_cache_guard")
