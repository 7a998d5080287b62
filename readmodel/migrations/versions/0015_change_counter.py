"""change_counter: a counter per read-model table, bumped by triggers in the writing transaction

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:50:00.000000

Self-contained: the counted tables and the trigger text are written here, not imported.
PostgreSQL: the counters are bumped at COMMIT, not at the first write. Statement-level AFTER
triggers with transition tables (and AFTER TRUNCATE) only record the changed table's name in a
transaction-local setting, ``clientgraph.changed_tables`` (an upsert that changed nothing records
nothing; asyncpg's executemany runs the statement, and so the trigger, per row: a table already
recorded costs a string search). The first record of a transaction also inserts its row into
``cg_change_marker`` (UNLOGGED), whose ``CONSTRAINT TRIGGER … DEFERRABLE INITIALLY DEFERRED`` runs
at commit: it locks the recorded tables' counter rows in name order, bumps them in one UPDATE,
clears the setting and deletes the marker. So a writer holds a counter row only while it commits,
and every writer takes them in the same order: concurrent writers of one table do not queue
behind each other's open transactions, and two writing two tables in opposite orders cannot
deadlock on the counters. The bump commits with the data (one transaction: a snapshot sees both
or neither). ``SET CONSTRAINTS ALL IMMEDIATE`` fires the bump at once (the rows are then held to
commit, as before); later writes record and mark again.
SQLite (single writer, no statement triggers): a row-level trigger per operation bumps at once.
"""

from collections.abc import Sequence

import time

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = (
    "account",
    "account_xref",
    "contact",
    "opportunity",
    "person",
    "engagement",
    "rate_card",
    "rate_card_line",
    "project",
    "milestone",
    "assignment",
    "time_entry",
    "change_order",
    "invoice",
    "payment",
    # the stored figures and health (migration 0014): their writers refresh them in the
    # transaction of the change, and the daily refresh rewrites them
    "account_figures",
    "account_health_factor",
    "project_figures",
    "engagement_figures",
)

CHANGED = "clientgraph.changed_tables"
"""The transaction's changed tables, ``,account,invoice,`` (empty: none yet, no marker)."""

PG_FUNCTIONS = (
    f"""
CREATE FUNCTION cg_record_change(changed text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  recorded text := coalesce(current_setting('{CHANGED}', true), '');
BEGIN
  IF recorded = '' THEN
    -- the setting first: under SET CONSTRAINTS … IMMEDIATE the marker's trigger reads it at once
    PERFORM set_config('{CHANGED}', ',' || changed || ',', true);
    INSERT INTO cg_change_marker (xid) VALUES (txid_current());
  ELSIF position(',' || changed || ',' IN recorded) = 0 THEN
    PERFORM set_config('{CHANGED}', recorded || changed || ',', true);
  END IF;
END $$
""",
    f"""
CREATE FUNCTION cg_changed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF position(',' || TG_TABLE_NAME || ',' IN coalesce(current_setting('{CHANGED}', true), '')) = 0
     AND EXISTS (SELECT 1 FROM cg_changed) THEN
    PERFORM cg_record_change(TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $$
""",
    """
CREATE FUNCTION cg_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM cg_record_change(TG_TABLE_NAME);
  RETURN NULL;
END $$
""",
    f"""
CREATE FUNCTION cg_bump_counters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[] := string_to_array(
    trim(BOTH ',' FROM coalesce(current_setting('{CHANGED}', true), '')), ',');
BEGIN
  -- in name order, every writer the same: no deadlock between committing writers
  PERFORM 1 FROM change_counter WHERE name = ANY(changed) ORDER BY name FOR UPDATE;
  UPDATE change_counter SET value = value + 1 WHERE name = ANY(changed);
  PERFORM set_config('{CHANGED}', '', true);
  DELETE FROM cg_change_marker WHERE xid = NEW.xid;
  RETURN NULL;
END $$
""",
)

PG_MARKER_TRIGGER = (
    "CREATE CONSTRAINT TRIGGER cg_bump_at_commit AFTER INSERT ON cg_change_marker "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cg_bump_counters()"
)


def _pg_triggers(table: str) -> list[str]:
    rows = "FOR EACH STATEMENT EXECUTE FUNCTION cg_changed_rows()"
    return [
        f"CREATE TRIGGER cg_changed_ins AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_upd AFTER UPDATE ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_del AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_trunc AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cg_truncate()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    bump = f"UPDATE change_counter SET value = value + 1 WHERE name = '{table}'"
    return [
        f"CREATE TRIGGER cg_changed_{op_}_{table} AFTER {op_.upper()} ON {table} BEGIN {bump}; END"
        for op_ in ("insert", "update", "delete")
    ]


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counter")),
    )
    op.create_table(
        "cg_change_marker",
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_cg_change_marker")),
    )
    counters = sa.table("change_counter", sa.column("name"), sa.column("value"))
    # counters start from the clock (ms), not 0: after a downgrade and upgrade, a gateway still
    # running cannot find its old entries' counters again on changed data
    start = int(time.time() * 1000)
    op.bulk_insert(counters, [{"name": t, "value": start} for t in COUNTED])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE cg_change_marker SET UNLOGGED")  # a row lives one commit
        for function in PG_FUNCTIONS:
            op.execute(function)
        op.execute(PG_MARKER_TRIGGER)
    for table in COUNTED:
        for ddl in _pg_triggers(table) if postgres else _sqlite_triggers(table):
            op.execute(ddl)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COUNTED:
        if postgres:
            for name in ("ins", "upd", "del", "trunc"):
                op.execute(f"DROP TRIGGER cg_changed_{name} ON {table}")
        else:
            for op_ in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER cg_changed_{op_}_{table}")
    if postgres:
        op.execute("DROP TRIGGER cg_bump_at_commit ON cg_change_marker")
        for function in ("changed_rows()", "truncate()", "record_change(text)", "bump_counters()"):
            op.execute(f"DROP FUNCTION cg_{function}")
    op.drop_table("cg_change_marker")
    op.drop_table("change_counter")
